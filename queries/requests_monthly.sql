-- Per month of the 24 before $as_of: requests received, and answered on time or late (R1.9).
WITH months AS (
    SELECT unnest(generate_series(date_trunc('month', $as_of::DATE) - INTERVAL 23 MONTH,
                                  date_trunc('month', $as_of::DATE), INTERVAL 1 MONTH))::DATE AS month
)
SELECT m.month,
       (SELECT count(*) FROM requests r WHERE date_trunc('month', r.received_date) = m.month
                                          AND r.received_date <= $as_of::DATE) AS received,
       (SELECT count(*) FROM requests r WHERE date_trunc('month', r.closed_date) = m.month
                                          AND r.closed_date <= $as_of::DATE AND r.answered_on_time) AS on_time,
       (SELECT count(*) FROM requests r WHERE date_trunc('month', r.closed_date) = m.month
                                          AND r.closed_date <= $as_of::DATE AND NOT r.answered_on_time) AS late
FROM months m
ORDER BY m.month;
