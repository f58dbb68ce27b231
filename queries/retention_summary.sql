-- Retention figures per category and source system on $as_of (R3.4), window $window_days,
-- for the chosen categories and systems (an empty list means all).
SELECT category, system,
       coalesce(sum(records) FILTER (status = 'due'), 0)::BIGINT AS due,
       min(retained_until) FILTER (status = 'due' AND records > 0) AS oldest_due_since,
       coalesce(sum(records) FILTER (status = 'approaching'), 0)::BIGINT AS approaching,
       coalesce(sum(records) FILTER (status = 'held'), 0)::BIGINT AS held,
       coalesce(sum(attachment_bytes) FILTER (status = 'due'), 0)::BIGINT AS bytes_due,
       sum(records)::BIGINT AS records
FROM retention_counts($as_of::DATE, $window_days)
WHERE (len($categories) = 0 OR list_contains($categories, category))
  AND (len($systems) = 0 OR list_contains($systems, system))
GROUP BY ALL
ORDER BY category, system;
