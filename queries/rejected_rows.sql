-- Source rows that failed validation, with the reason (never dropped silently).
SELECT table_name, source, record_key, source_row, reason FROM rejected_rows
ORDER BY table_name, source_row;
