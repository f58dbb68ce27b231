-- The DPO's work queue on $as_of: open requests, most urgent first (R1.8), with the page's filters;
-- the columns a DPO acts on first. Empty lists mean "no filter".
SELECT request_id, clock, days_left, assignee, "right", status, deadline, received_date, due, extended_due,
       extension, channel, paused_days
FROM requests_on($as_of::DATE, $due_soon_days)
WHERE is_open AND (NOT is_hidden OR $show_hidden)
  AND (len($rights) = 0 OR list_contains($rights, "right"))
  AND (len($statuses) = 0 OR list_contains($statuses, status))
  AND (len($assignees) = 0 OR list_contains($assignees, assignee))
  AND (len($channels) = 0 OR list_contains($channels, channel))
  AND (NOT $overdue_only OR clock = 'overdue')
  AND ($due_within IS NULL OR days_left <= $due_within)
  AND received_date BETWEEN coalesce($received_from::DATE, DATE '1900-01-01')
                        AND coalesce($received_to::DATE, DATE '2999-12-31')
ORDER BY days_left, received_date, request_id;
