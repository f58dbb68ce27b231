-- R3.5: data subjects whose master data (name, email, phone, address) may be deleted on $as_of
-- (see deletable_on), those with no records first, then by the date the last record could go;
-- with every system that holds the person's master data, under its own id (people across systems).
SELECT d.contact_id, c.first_name, c.last_name, d.records, d.last_retained_until,
       (SELECT string_agg(i.source || ': ' || i.source_contact_id, ', ' ORDER BY i.rank)
        FROM contact_identities i WHERE i.contact_id = d.contact_id) AS known_as
FROM deletable_on($as_of::DATE) d JOIN contacts c USING (contact_id)
ORDER BY d.last_retained_until NULLS FIRST, d.contact_id;
