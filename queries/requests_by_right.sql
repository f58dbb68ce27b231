-- Open, visible requests per right and clock status on $as_of (the bar chart).
SELECT "right", clock, count(*) AS requests
FROM requests_on($as_of::DATE, $due_soon_days)
WHERE is_open AND NOT is_hidden
GROUP BY ALL
ORDER BY "right", clock;
