-- Open requests per right and clock status on $as_of (the bar chart), with the queue's filters
-- (empty lists mean "no filter"; the management report passes none).
SELECT "right", clock, count(*) AS requests
FROM open_requests_filtered($as_of::DATE, $due_soon_days, $show_hidden, $rights, $statuses, $assignees, $channels,
                            $overdue_only, $due_within, $received_from, $received_to)
GROUP BY ALL
ORDER BY "right", clock;
