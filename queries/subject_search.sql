-- Data subjects matching $term, for the DPO to choose whom an Art. 15 / Art. 20 export is for: an id
-- in the cockpit or in any source system, an e-mail, or (from 3 characters) part of a name or e-mail.
-- Plain substring matching (contains), so % and _ in the term are just characters.
SELECT c.contact_id, c.first_name, c.last_name, c.email
FROM contacts c
WHERE c.contact_id = $term
   OR lower(c.email) = lower($term)
   OR c.contact_id IN (SELECT contact_id FROM contact_identities WHERE source_contact_id = $term)
   OR (length($term) >= 3
       AND (contains(lower(concat_ws(' ', c.first_name, c.last_name)), lower($term))
            OR contains(lower(c.email), lower($term))))
ORDER BY c.contact_id = $term DESC, lower(c.email) = lower($term) DESC, c.last_name, c.first_name, c.contact_id
LIMIT 20;
