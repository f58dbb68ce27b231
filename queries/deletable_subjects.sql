-- R3.5: data subjects whose master data (name, email, phone, address) may be deleted on $as_of:
-- every one of their records is past retention (the last retained-until date has passed) and none
-- is held, and nothing of theirs is still running (an open ticket or a contract without an end).
-- last_retained_until = max(retained-until of their records), the date R3.5 names.
SELECT s.contact_id, c.first_name, c.last_name, s.records, s.last_retained_until,
       count(*) OVER () AS total_rows
FROM subject_retention s
LEFT JOIN contacts c USING (contact_id)
WHERE s.last_retained_until < $as_of::DATE AND NOT s.running
  AND s.contact_id NOT IN (SELECT contact_id FROM held_on($as_of::DATE))
ORDER BY s.last_retained_until, s.contact_id
LIMIT $limit;
