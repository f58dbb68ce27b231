-- R1.9: the requests answered in the 90 dates up to $as_of (the ones the "answered on time, 90 days"
-- figure of requests_kpis.sql counts), the latest answer first.
SELECT request_id, "right", answered_on_time, received_date, deadline, closed_date,
       closed_date - received_date AS days_taken, assignee
FROM requests_on($as_of::DATE, $due_soon_days)
WHERE answered_in_90_days(answered_on_time, closed_date, $as_of::DATE)
ORDER BY closed_date DESC, request_id;
