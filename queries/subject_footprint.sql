-- How much a data subject has in each store (counts only).
SELECT
    (SELECT count(*) FROM tickets WHERE contact_id = $contact_id) AS tickets,
    (SELECT count(*) FROM contracts WHERE contact_id = $contact_id) AS contracts,
    (SELECT count(*) FROM invoices WHERE contact_id = $contact_id) AS invoices,
    (SELECT count(DISTINCT purpose) FROM consent_events WHERE contact_id = $contact_id) AS consents,
    (SELECT count(*) FROM holds WHERE record_type = 'subject' AND record_id = $contact_id) AS holds,
    (SELECT count(*) FROM requests WHERE contact_id = $contact_id) AS requests;
