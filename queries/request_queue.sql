-- The DPO's work queue on $as_of: open requests, most urgent first (R1.8), with the page's filters;
-- the columns a DPO acts on first (an extended deadline only where an extension was notified). Empty
-- lists mean "no filter".
SELECT request_id, clock, days_left, assignee, "right", status, deadline, received_date, due,
       CASE WHEN extension <> 'none' THEN extended_due END AS extended_due, extension, channel, paused_days
FROM open_requests_filtered($as_of::DATE, $due_soon_days, $show_hidden, $rights, $statuses, $assignees, $channels,
                            $overdue_only, $due_within, $received_from, $received_to)
ORDER BY days_left, received_date, request_id;
