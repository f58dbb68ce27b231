-- Per month of the 24 before $as_of: requests received, and answered on time or late (R1.9), of the
-- requests the page's filters of their own facts choose (right, channel, assignee, receipt date).
WITH months AS (
    SELECT unnest(generate_series(date_trunc('month', $as_of::DATE) - INTERVAL 23 MONTH,
                                  date_trunc('month', $as_of::DATE), INTERVAL 1 MONTH))::DATE AS month
), chosen AS (
    SELECT received_date, closed_date, answered_on_time
    FROM requests
    WHERE request_chosen("right", channel, assignee, received_date, $rights, $channels, $assignees,
                         $received_from, $received_to)
)
SELECT m.month,
       (SELECT count(*) FROM chosen r WHERE date_trunc('month', r.received_date) = m.month
                                        AND r.received_date <= $as_of::DATE) AS received,
       (SELECT count(*) FROM chosen r WHERE date_trunc('month', r.closed_date) = m.month
                                        AND r.closed_date <= $as_of::DATE AND r.answered_on_time) AS on_time,
       (SELECT count(*) FROM chosen r WHERE date_trunc('month', r.closed_date) = m.month
                                        AND r.closed_date <= $as_of::DATE AND NOT r.answered_on_time) AS late
FROM months m
ORDER BY m.month;
