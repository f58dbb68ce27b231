-- Records of one status on $as_of, most overdue first (R3.3, R3.4); held records carry the hold.
SELECT category, system, record_type, record_id, contact_id, anchor_date, retained_until, days_overdue,
       hold_kind, hold_reason, hold_set_by, hold_review_date
FROM retention_on($as_of::DATE, $window_days)
WHERE status = $status
ORDER BY retained_until, record_id
LIMIT $limit;
