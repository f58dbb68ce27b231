-- The DPO's work queue on $as_of: open requests, most urgent first (R1.8).
SELECT request_id, "right", channel, received_date, due, extended_due, extension, deadline,
       days_left, clock, status, assignee, paused_days
FROM requests_on($as_of::DATE, $due_soon_days)
WHERE is_open AND (NOT is_hidden OR $show_hidden)
ORDER BY days_left, received_date, request_id
LIMIT $limit;
