-- Art. 15/20: the data-subject requests made by $contact_id and how they were handled.
SELECT request_id, "right", channel, received_at, status, closed_at, outcome, due, deadline
FROM requests WHERE contact_id = $contact_id ORDER BY received_at;
