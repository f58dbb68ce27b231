-- One row per record that a retention rule governs, with its retained-until date
-- (computed by dashboard.deadlines.retention_end during the build). Status is decided per query,
-- because it depends on the chosen date and on holds.
CREATE TABLE retention_records AS
WITH ticket_bytes AS (
    SELECT ticket_id, sum(size_bytes) AS attachment_bytes FROM attachments GROUP BY ticket_id
)
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
FROM invoices;
