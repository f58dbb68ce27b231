-- Löschliste: the record ids of source system $system that are due for deletion on $as_of
-- (past retention, not held; R3.3, R3.4). Ids only, for the team that deletes them.
SELECT record_type, record_id, category, retained_until, days_overdue
FROM retention_on($as_of::DATE, 0, ['due'])
WHERE system = $system
ORDER BY record_type, retained_until, record_id;
