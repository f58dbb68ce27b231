-- One request with its clock on $as_of and its subject's contact details (left out for roles without
-- personal data).
SELECT r.request_id, r."right", r.channel, r.status, r.assignee, r.received_at, r.received_date,
       r.identity_verified_at, r.extension_notified_at, r.extension_reason, r.closed_at, r.outcome,
       r.raw_due, r.due, r.extended_due, r.extension, r.deadline, r.is_open, r.days_left, r.clock,
       r.contact_id, c.first_name, c.last_name, c.email
FROM requests_on($as_of::DATE, $due_soon_days) r LEFT JOIN contacts c USING (contact_id)
WHERE r.request_id = $request_id;
