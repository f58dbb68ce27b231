-- What the pages count from retention_records (build_retention_records.sql), counted once per build.

-- The same records counted per day: the figures and the forecast need no row-by-row pass.
CREATE TABLE retention_daily AS
SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
FROM retention_records GROUP BY ALL;

-- R3.5 per data subject: how many governed records, the last retained-until date, and the day the
-- newest of them came into being (a look back before that day recounts the subject from its records).
CREATE TABLE subject_retention AS
SELECT contact_id, count(*) AS records, max(retained_until) AS last_retained_until,
       max(created_date) AS last_created
FROM retention_records GROUP BY contact_id;

-- R3.5 per data subject: what still runs without a retention clock (an open ticket, a contract
-- without an end) and since when, so that a look back sees what ran on that day.
CREATE TABLE subject_running AS
SELECT contact_id, min(berlin_date(opened_at)) AS since
FROM tickets WHERE ticket_closed_date(status, closed_at) IS NULL GROUP BY ALL
UNION ALL
SELECT contact_id, min(start_date) FROM contracts WHERE end_date IS NULL GROUP BY ALL;
