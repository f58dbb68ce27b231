-- Art. 15: the invoices of data subject $contact_id, with their retention date and, where an erasure
-- request restricts one on $as_of instead of erasing it (section 5), the date it is restricted until.
SELECT i.invoice_id, i.contract_id, i.invoice_date, i.amount_eur, e.retained_until, r.restricted_until
FROM invoices i LEFT JOIN retention_ends e ON e.anchor = 'invoice_date' AND e.anchor_date = i.invoice_date
LEFT JOIN restricted_on($as_of::DATE) r ON r.record_type = 'invoice' AND r.record_id = i.invoice_id
WHERE i.contact_id = $contact_id ORDER BY i.invoice_date, i.invoice_id;
