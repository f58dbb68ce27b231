-- Contacts not matched across systems because their e-mail is shared by several contacts of the
-- same source (see build_identities.sql): for the DPO to resolve in the source, never guessed.
SELECT source, source_contact_id, contacts_with_same_email FROM identity_ambiguities
ORDER BY source, source_contact_id;
