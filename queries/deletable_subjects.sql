-- R3.5: data subjects whose master data (name, email, phone, address) may be deleted on $as_of
-- (see deletable_on), those with no records first, then by the date the last record could go.
SELECT d.contact_id, c.first_name, c.last_name, d.records, d.last_retained_until
FROM deletable_on($as_of::DATE) d JOIN contacts c USING (contact_id)
ORDER BY d.last_retained_until NULLS FIRST, d.contact_id;
