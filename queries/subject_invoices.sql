-- Art. 15: the invoices of data subject $contact_id, with their retention date.
SELECT i.invoice_id, i.contract_id, i.invoice_date, i.amount_eur, e.retained_until
FROM invoices i LEFT JOIN retention_ends e ON e.anchor = 'invoice_date' AND e.anchor_date = i.invoice_date
WHERE i.contact_id = $contact_id ORDER BY i.invoice_date;
