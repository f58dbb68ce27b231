-- One incident's lifecycle moments (R2.5) for its timeline, with the 72-hour deadline.
SELECT incident_id, title, type, risk, status, detected_at, aware_at, notification_deadline,
       authority_notified_at, subjects_informed_at, contained_at, closed_at, delay_reason, art34_exemption
FROM incidents
WHERE incident_id = $incident_id;
