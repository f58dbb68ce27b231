-- Löschliste: the record ids of source system $system that are due for deletion on $as_of
-- (past retention or erased, not held; R3.3, R3.4, R3.6). Ids only, for the team that deletes
-- them; records an erasure request makes due come first, with the request or hold behind them.
SELECT record_type, record_id, category, retained_until, days_overdue, finding, erasure_ref
FROM retention_on($as_of::DATE, 0, ['due'])
WHERE system = $system
ORDER BY finding IS NULL, finding, record_type, retained_until, record_id;
