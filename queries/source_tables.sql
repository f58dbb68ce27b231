-- Rows read, accepted and rejected per canonical table in this snapshot.
SELECT table_name, system, source, rows_read, accepted, rejected FROM snapshot_tables ORDER BY system, table_name;
