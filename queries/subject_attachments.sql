-- Art. 15: the attachments (log files, configurations, screenshots) of the subject's tickets.
SELECT a.attachment_id, a.ticket_id, a.kind, a.size_bytes
FROM attachments a JOIN tickets t USING (ticket_id)
WHERE t.contact_id = $contact_id ORDER BY a.ticket_id, a.attachment_id;
