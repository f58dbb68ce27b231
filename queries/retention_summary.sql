-- Retention figures per category and source system on $as_of (R3.4), window $window_days,
-- for the chosen categories and systems (an empty list means all).
SELECT category, system,
       count(*) FILTER (status = 'due') AS due,
       min(retained_until) FILTER (status = 'due') AS oldest_due_since,
       count(*) FILTER (status = 'approaching') AS approaching,
       count(*) FILTER (status = 'held') AS held,
       coalesce(sum(attachment_bytes) FILTER (status = 'due'), 0) AS bytes_due,
       count(*) AS records
FROM retention_on($as_of::DATE, $window_days)
WHERE (len($categories) = 0 OR list_contains($categories, category))
  AND (len($systems) = 0 OR list_contains($systems, system))
GROUP BY ALL
ORDER BY category, system;
