-- Art. 15/20: the support tickets of data subject $contact_id, with their retention date.
SELECT ticket_id, opened_at, closed_at, status, category, message_count, retained_until
FROM tickets WHERE contact_id = $contact_id ORDER BY opened_at;
