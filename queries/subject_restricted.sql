-- Section 5: the records of data subject $contact_id that an erasure request restricts on $as_of
-- instead of erasing them (a statute obliges keeping them), each until its retained-until date.
SELECT record_id, restricted_until, record_type, category, system
FROM restricted_on($as_of::DATE)
WHERE contact_id = $contact_id
ORDER BY restricted_until, record_type, record_id;
