-- Run only when several sources feed `contacts` (dashboard.snapshot._resolve_people): with one source
-- every contact is already one person, and this pass over every contact would be thrown away.
-- One row per person: name and address from the first-listed source that has them (as a whole, so
-- a first name is never paired with another system's last name), the earliest creation.
CREATE TEMP TABLE _people AS
SELECT i.contact_id,
       arg_min({'first': c.first_name, 'last': c.last_name}, i.rank)
           FILTER (WHERE coalesce(c.first_name, c.last_name) IS NOT NULL) AS name,
       arg_min(c.email, i.rank) FILTER (WHERE c.email IS NOT NULL) AS email,
       arg_min(c.phone, i.rank) FILTER (WHERE c.phone IS NOT NULL) AS phone,
       arg_min({'street': c.street, 'postal_code': c.postal_code, 'city': c.city}, i.rank)
           FILTER (WHERE coalesce(c.street, c.postal_code, c.city) IS NOT NULL) AS address,
       min(c.created_at) AS created_at
FROM contacts c JOIN contact_identities i ON i.source = c._source AND i.source_contact_id = c.contact_id
GROUP BY i.contact_id;

CREATE OR REPLACE TEMP TABLE _people AS
SELECT contact_id, name.first AS first_name, name.last AS last_name, email, phone,
       address.street AS street, address.postal_code AS postal_code, address.city AS city, created_at,
       NULL::VARCHAR AS _source, NULL::INTEGER AS _rank
FROM _people;
