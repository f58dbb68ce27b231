-- Art. 15/20: the support tickets of data subject $contact_id, with their retention date.
SELECT t.ticket_id, t.opened_at, t.closed_at, t.status, t.category, t.message_count, e.retained_until
FROM tickets t LEFT JOIN retention_ends e
  ON e.anchor = 'ticket_closed' AND e.anchor_date = ticket_closed_date(t.status, t.closed_at)
WHERE t.contact_id = $contact_id ORDER BY t.opened_at;
