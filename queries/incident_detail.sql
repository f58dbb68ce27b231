-- One incident's lifecycle moments (R2.5) for its timeline, with the 72-hour deadline and, as it
-- stood at $as_of, its clock, the hours left or late and the Art. 34 status.
SELECT i.incident_id, i.title, i.type, i.risk, i.status, i.detected_at, i.aware_at, i.notification_deadline,
       i.authority_notified_at, i.subjects_informed_at, i.contained_at, i.closed_at, i.delay_reason,
       i.art34_exemption, b.clock, b.art34,
       CASE WHEN b.clock IN ('open', 'warning')
            THEN round(epoch(i.notification_deadline - $as_of::TIMESTAMPTZ) / 3600, 1) END AS hours_left,
       CASE WHEN b.clock = 'overdue' THEN round(epoch($as_of::TIMESTAMPTZ - i.notification_deadline) / 3600, 1)
            WHEN b.clock = 'notified_late'
            THEN round(epoch(i.authority_notified_at - i.notification_deadline) / 3600, 1) END AS hours_late
FROM incidents i LEFT JOIN breaches_on($as_of::TIMESTAMPTZ, $warning_hours) b USING (incident_id)
WHERE i.incident_id = $incident_id;
