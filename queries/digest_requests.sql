-- Every request the register holds, with its right and receipt date: what the DPO's digest compares
-- with the requests an earlier digest knew, to list the new ones (ids and rights only).
SELECT request_id, "right", received_date, deadline
FROM requests
ORDER BY received_date, request_id;
