-- Art. 15: the service contracts of data subject $contact_id.
SELECT contract_id, start_date, end_date, status, retained_until
FROM contracts WHERE contact_id = $contact_id ORDER BY start_date;
