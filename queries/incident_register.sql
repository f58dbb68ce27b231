-- The incident register at $as_of, those needing action first (R2.2-R2.5), the clock in the first columns. Incidents not (yet)
-- confirmed as breaches have no clock. Filters: $clocks (empty: all); $window_months (NULL: all time):
-- only breaches the company became aware of in that many months up to $as_of, the window of
-- incident_kpis.sql, so the 72-hour figure's link lists exactly the breaches it counts.
WITH c AS (
    -- As they stood at $as_of (R2.4a): what happened later is not shown yet.
    SELECT i.* REPLACE (stood_at(i.authority_notified_at, $as_of::TIMESTAMPTZ) AS authority_notified_at,
                        stood_at(i.subjects_informed_at, $as_of::TIMESTAMPTZ) AS subjects_informed_at,
                        CASE WHEN coalesce(i.art34_exemption_at <= $as_of::TIMESTAMPTZ, true) THEN i.art34_exemption
                        END AS art34_exemption),
           b.clock, b.notification_required, b.art34
    FROM incidents i LEFT JOIN breaches_on($as_of::TIMESTAMPTZ, $warning_hours) b USING (incident_id)
    WHERE i.detected_at <= $as_of::TIMESTAMPTZ
)
SELECT incident_id, clock,
       CASE WHEN clock IN ('open', 'warning') THEN round(epoch(notification_deadline - $as_of::TIMESTAMPTZ) / 3600, 1)
       END AS hours_left,
       CASE WHEN clock = 'overdue' THEN round(epoch($as_of::TIMESTAMPTZ - notification_deadline) / 3600, 1)
            WHEN clock = 'notified_late' THEN round(epoch(authority_notified_at - notification_deadline) / 3600, 1)
       END AS hours_late,
       status, art34, title, type, risk, detected_at, aware_at, notification_deadline, notification_required,
       authority_notified_at, delay_reason, art34_exemption, subjects_informed_at, subjects_affected
FROM c
WHERE (len($clocks) = 0 OR list_contains($clocks, clock))
  AND ($window_months IS NULL OR aware_at > $as_of::TIMESTAMPTZ - to_months($window_months))
ORDER BY CASE clock WHEN 'overdue' THEN 0 WHEN 'warning' THEN 1 WHEN 'open' THEN 2 ELSE 3 END,
         CASE WHEN clock IN ('overdue', 'warning', 'open') THEN notification_deadline END,
         detected_at DESC, incident_id;
