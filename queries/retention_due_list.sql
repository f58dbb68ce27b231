-- Records of the chosen statuses on $as_of (R3.3, R3.4, R3.6): due records with an erasure finding
-- first, then the most overdue; held records carry their hold. Filters: categories, systems, statuses (empty list: all three of due, approaching,
-- held), retained-until between $until_from and $until_to (NULL: open).
-- The number of matching rows comes from retention_due_list_count (same filters).
SELECT category, system, record_type, record_id, contact_id, anchor_date, retained_until, status, finding,
       CASE WHEN status = 'due' THEN days_overdue END AS days_overdue,
       hold_kind, hold_reason, hold_set_by, hold_review_date, erasure_ref
FROM retention_on($as_of::DATE, $window_days,
                  CASE WHEN len($statuses) = 0 THEN ['due', 'approaching', 'held'] ELSE $statuses END)
WHERE (len($categories) = 0 OR list_contains($categories, category))
  AND (len($systems) = 0 OR list_contains($systems, system))
  AND ($until_from IS NULL OR retained_until >= $until_from::DATE)
  AND ($until_to IS NULL OR retained_until <= $until_to::DATE)
ORDER BY CASE status WHEN 'due' THEN 0 WHEN 'approaching' THEN 1 ELSE 2 END, finding IS NULL, finding, retained_until,
         record_id;
