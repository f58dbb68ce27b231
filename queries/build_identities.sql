-- People across systems: the same person is one data subject whether they appear in the helpdesk,
-- the newsletter, billing or the privacy register. Within a source a contact is its source's own id;
-- across the sources that feed `contacts` (listed in sources.toml, first one first), contacts with
-- the same normalised e-mail (trimmed, lower-case) are one person. An e-mail that several contacts
-- of one source share says nothing about which of them another system's contact is: those contacts
-- are not merged but listed in identity_ambiguities (shown on Datenqualität), never guessed.
-- A person's contact_id is their id in the first-listed source that has them; from a later source
-- it is prefixed with that source's name ("newsletter:17"), so ids of different sources never clash.
CREATE TEMP TABLE _keys AS
SELECT _source AS source, _rank AS rank, contact_id AS source_contact_id,
       NULLIF(lower(trim(email)), '') AS email_key,
       count(*) OVER (PARTITION BY _source, NULLIF(lower(trim(email)), '')) AS sharing
FROM contacts;

CREATE TABLE identity_ambiguities AS
SELECT source, source_contact_id, sharing AS contacts_with_same_email
FROM _keys WHERE email_key IS NOT NULL AND sharing > 1
ORDER BY source, source_contact_id;

CREATE TABLE contact_identities AS
WITH keyed AS (
    SELECT *, CASE WHEN email_key IS NOT NULL AND sharing = 1 THEN 'e:' || email_key
                   ELSE 's:' || source || ':' || source_contact_id END AS person,
              CASE WHEN rank = 0 THEN source_contact_id ELSE source || ':' || source_contact_id END AS own_id
    FROM _keys
), named AS (
    SELECT person, arg_min(own_id, (rank, source_contact_id)) AS contact_id FROM keyed GROUP BY person
)
SELECT n.contact_id, k.source, k.source_contact_id, k.rank
FROM keyed k JOIN named n USING (person)
ORDER BY n.contact_id, k.rank;

DROP TABLE _keys;
