-- Art. 15/20: every consent event of data subject $contact_id (the proof of consent, R4.1).
SELECT purpose, action, occurred_at, notice_version, channel
FROM consent_events WHERE contact_id = $contact_id ORDER BY occurred_at, purpose;
