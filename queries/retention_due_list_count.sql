-- How many records retention_due_list finds with the same filters, from the per-day counts (no pass
-- over every record); data.run_page uses a "<list>_count" query where one exists.
SELECT coalesce(sum(records), 0)::BIGINT AS total
FROM retention_counts($as_of::DATE, $window_days)
WHERE status IN ('due', 'approaching', 'held')
  AND (len($statuses) = 0 OR list_contains($statuses, status))
  AND (len($categories) = 0 OR list_contains($categories, category))
  AND (len($systems) = 0 OR list_contains($systems, system))
  AND ($until_from IS NULL OR retained_until >= $until_from::DATE)
  AND ($until_to IS NULL OR retained_until <= $until_to::DATE);
