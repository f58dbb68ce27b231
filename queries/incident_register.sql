-- The incident register at $as_of, those needing action first (R2.2-R2.4).
WITH c AS (
    SELECT *,
           breach_clock_status(notification_deadline, risk, authority_notified_at, $as_of::TIMESTAMPTZ,
                               $warning_hours) AS clock,
           round(epoch(notification_deadline - $as_of::TIMESTAMPTZ) / 3600, 1) AS hours_left
    FROM incidents
    WHERE detected_at <= $as_of::TIMESTAMPTZ
)
SELECT incident_id, title, type, detected_at, aware_at, notification_deadline,
       CASE WHEN clock IN ('open', 'warning', 'overdue') THEN hours_left END AS hours_left,
       risk, clock, authority_notified_at, delay_reason, subjects_informed_at, art34_exemption, status
FROM c
ORDER BY CASE clock WHEN 'overdue' THEN 0 WHEN 'warning' THEN 1 WHEN 'open' THEN 2 ELSE 3 END,
         notification_deadline NULLS LAST, detected_at DESC
LIMIT $limit;
