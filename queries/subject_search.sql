-- Data subjects matching $term, for the DPO to choose whom an Art. 15 / Art. 20 export is for: an id
-- in the cockpit or in any source system, an e-mail, or (from 3 characters) part of a name or e-mail.
-- Plain substring matching (contains), so % and _ in the term are just characters; names and e-mails
-- compare lower-case with umlauts and ß folded as German writes them without (Hübel = Huebel).
WITH term AS (
    SELECT replace(replace(replace(replace(lower($term), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss') AS folded
), people AS (
    SELECT c.*,
           replace(replace(replace(replace(lower(concat_ws(' ', c.first_name, c.last_name)), 'ä', 'ae'), 'ö', 'oe'),
                           'ü', 'ue'), 'ß', 'ss') AS folded_name,
           replace(replace(replace(replace(lower(c.email), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss') AS folded_email
    FROM contacts c
)
SELECT c.contact_id, c.first_name, c.last_name, c.email
FROM people c, term
WHERE c.contact_id = $term
   OR lower(c.email) = lower($term)
   OR c.contact_id IN (SELECT contact_id FROM contact_identities WHERE source_contact_id = $term)
   OR (length($term) >= 3 AND (contains(c.folded_name, term.folded) OR contains(c.folded_email, term.folded)))
ORDER BY c.contact_id = $term DESC, lower(c.email) = lower($term) DESC, c.last_name, c.first_name, c.contact_id
LIMIT 20;
