-- Art. 15: the service contracts of data subject $contact_id, with their retention date and, where an
-- erasure request restricts one on $as_of instead of erasing it (section 5), the date it is restricted until.
SELECT c.contract_id, c.start_date, c.end_date, c.status, e.retained_until, r.restricted_until
FROM contracts c LEFT JOIN retention_ends e ON e.anchor = 'contract_end' AND e.anchor_date = c.end_date
LEFT JOIN restricted_on($as_of::DATE) r ON r.record_type = 'contract' AND r.record_id = c.contract_id
WHERE c.contact_id = $contact_id ORDER BY c.start_date, c.contract_id;
