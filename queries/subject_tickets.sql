-- Art. 15/20: the support tickets of data subject $contact_id, with their retention date and, where an
-- erasure request restricts one on $as_of instead of erasing it (section 5), the date it is restricted until.
SELECT t.ticket_id, t.opened_at, t.closed_at, t.status, t.category, t.message_count, e.retained_until,
       r.restricted_until
FROM tickets t LEFT JOIN retention_ends e
  ON e.anchor = 'ticket_closed' AND e.anchor_date = ticket_closed_date(t.status, t.closed_at)
LEFT JOIN restricted_on($as_of::DATE) r ON r.record_type = 'ticket' AND r.record_id = t.ticket_id
WHERE t.contact_id = $contact_id ORDER BY t.opened_at;
