-- Retention figures per category and source system on $as_of (R3.4), window $window_days.
SELECT category, system,
       count(*) FILTER (status = 'due') AS due,
       min(retained_until) FILTER (status = 'due') AS oldest_due_since,
       count(*) FILTER (status = 'approaching') AS approaching,
       count(*) FILTER (status = 'held') AS held,
       coalesce(sum(attachment_bytes) FILTER (status = 'due'), 0) AS bytes_due,
       count(*) AS records
FROM retention_on($as_of::DATE, $window_days)
GROUP BY ALL
ORDER BY category, system;
