-- Art. 15: under which id each system knows data subject $contact_id (the people across systems
-- resolved at build time; see build_identities.sql), first-listed source first.
SELECT source, source_contact_id FROM contact_identities WHERE contact_id = $contact_id ORDER BY rank, source;
