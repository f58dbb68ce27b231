-- Art. 15: the invoices of data subject $contact_id.
SELECT invoice_id, contract_id, invoice_date, amount_eur, retained_until
FROM invoices WHERE contact_id = $contact_id ORDER BY invoice_date;
