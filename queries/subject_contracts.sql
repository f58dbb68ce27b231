-- Art. 15: the service contracts of data subject $contact_id, with their retention date.
SELECT c.contract_id, c.start_date, c.end_date, c.status, e.retained_until
FROM contracts c LEFT JOIN retention_ends e ON e.anchor = 'contract_end' AND e.anchor_date = c.end_date
WHERE c.contact_id = $contact_id ORDER BY c.start_date;
