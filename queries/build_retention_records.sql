-- One row per record that a retention rule governs, with its retained-until date
-- (computed by dashboard.deadlines.retention_end during the build), sorted by that date so that
-- date filters skip whole row groups. Status is decided per query, because it depends on the
-- chosen date and on holds.
CREATE TABLE retention_records AS
WITH ticket_bytes AS (
    SELECT ticket_id, sum(size_bytes) AS attachment_bytes FROM attachments GROUP BY ticket_id
), governed AS (
    SELECT 'support_communication' AS category, 'helpdesk' AS system, 'ticket' AS record_type,
           t.ticket_id AS record_id, t.contact_id, t.closed_date AS anchor_date, t.retained_until,
           coalesce(b.attachment_bytes, 0) AS attachment_bytes
    FROM tickets t LEFT JOIN ticket_bytes b USING (ticket_id)
    WHERE t.retained_until IS NOT NULL
    UNION ALL
    SELECT 'contract', 'billing', 'contract', contract_id, contact_id, end_date, retained_until, 0
    FROM contracts WHERE retained_until IS NOT NULL
    UNION ALL
    SELECT 'billing', 'billing', 'invoice', invoice_id, contact_id, invoice_date, retained_until, 0
    FROM invoices
)
SELECT * FROM governed ORDER BY retained_until;

-- The same records counted per day: the figures and the forecast need no row-by-row pass.
CREATE TABLE retention_daily AS
SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
FROM retention_records GROUP BY ALL;

-- R3.5 per data subject: how many governed records, the last retained-until date, and whether
-- anything of theirs is still running (an open ticket or a contract without an end has no
-- retention clock yet, so the master data is still needed).
CREATE TABLE subject_retention AS
WITH running AS (
    SELECT DISTINCT contact_id FROM tickets WHERE retained_until IS NULL
    UNION SELECT DISTINCT contact_id FROM contracts WHERE retained_until IS NULL
)
SELECT r.contact_id, count(*) AS records, max(r.retained_until) AS last_retained_until,
       r.contact_id IN (SELECT contact_id FROM running) AS running
FROM retention_records r GROUP BY r.contact_id;

-- R3.3: everything that can hold a record, with the dates it holds it from and until (exclusive):
-- recorded holds (legal, tax, erasure under statutory retention), open data-subject requests
-- (an open restriction request, Art. 18, says so by name) and open incidents with their records.
-- Timestamps count by their Europe/Berlin date.
CREATE TABLE hold_sources AS
SELECT hold_id, record_type, record_id, kind, reason, set_by, review_date,
       timezone('Europe/Berlin', set_at)::DATE AS valid_from,
       timezone('Europe/Berlin', released_at)::DATE AS valid_to
FROM holds
UNION ALL
SELECT request_id, 'subject', contact_id,
       CASE WHEN "right" = 'restriction' THEN 'restriction' ELSE 'open_request' END,
       CASE WHEN "right" = 'restriction' THEN 'Einschränkung der Verarbeitung beantragt (Art. 18 DSGVO)'
            ELSE 'Offene Betroffenenanfrage (' || "right" || ')' END,
       assignee, deadline, received_date, NULL::DATE
FROM requests
WHERE status NOT IN ('completed', 'rejected', 'withdrawn', 'duplicate') AND contact_id IS NOT NULL
UNION ALL
SELECT l.link_id, l.record_type, l.record_id, 'incident', 'Offene Datenpanne ' || i.incident_id, NULL, NULL::DATE,
       timezone('Europe/Berlin', i.detected_at)::DATE, timezone('Europe/Berlin', i.closed_at)::DATE
FROM incident_records l JOIN incidents i USING (incident_id)
WHERE i.status NOT IN ('closed', 'not_personal_data');

-- Each hold joined to the records it covers (a subject hold covers all the subject's records);
-- record holds take precedence over subject holds when both apply.
CREATE TABLE hold_links AS
SELECT s.hold_id, s.kind, s.reason, s.set_by, s.review_date, s.valid_from, s.valid_to, 0 AS precedence, r.*
FROM hold_sources s JOIN retention_records r ON r.record_type = s.record_type AND r.record_id = s.record_id
UNION ALL
SELECT s.hold_id, s.kind, s.reason, s.set_by, s.review_date, s.valid_from, s.valid_to, 1, r.*
FROM hold_sources s JOIN retention_records r ON s.record_type = 'subject' AND r.contact_id = s.record_id;
