-- Art. 15/20: the master data of data subject $contact_id.
SELECT contact_id, first_name, last_name, email, phone, street, postal_code, city, created_at
FROM contacts WHERE contact_id = $contact_id;
