-- R3.5: data subjects whose master data (name, email, phone, address) may be deleted on $as_of:
-- every one of their records is past retention and none is held, and none is still running
-- (an open ticket or a contract without an end has no retention clock yet).
-- last_retained_until = max(retained-until of their records), the date R3.5 names.
WITH per_subject AS (
    SELECT contact_id, count(*) AS records, max(retained_until) AS last_retained_until,
           bool_and(status = 'due') AS all_due
    FROM retention_on($as_of::DATE, 0)
    GROUP BY contact_id
), running AS (
    SELECT contact_id FROM tickets WHERE retained_until IS NULL
    UNION SELECT contact_id FROM contracts WHERE retained_until IS NULL
)
SELECT s.contact_id, c.first_name, c.last_name, s.records, s.last_retained_until,
       count(*) OVER () AS total_rows
FROM per_subject s
LEFT JOIN contacts c USING (contact_id)
WHERE s.all_due AND s.contact_id NOT IN (SELECT contact_id FROM running)
ORDER BY s.last_retained_until, s.contact_id
LIMIT $limit;
