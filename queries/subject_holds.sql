-- Art. 15: holds that keep the subject's data beyond its retention period (R3.3), and why.
SELECT h.hold_id, h.record_type, h.record_id, h.kind, h.reason, h.set_at, h.review_date, h.released_at
FROM holds h
WHERE (h.record_type = 'subject' AND h.record_id = $contact_id)
   OR (h.record_type = 'ticket' AND h.record_id IN (SELECT ticket_id FROM tickets WHERE contact_id = $contact_id))
   OR (h.record_type = 'contract' AND h.record_id IN (SELECT contract_id FROM contracts WHERE contact_id = $contact_id))
   OR (h.record_type = 'invoice' AND h.record_id IN (SELECT invoice_id FROM invoices WHERE contact_id = $contact_id))
ORDER BY h.set_at;
