-- Headline figures of the requests page (R1.8, R1.9) on $as_of; "90 days" are the 90 dates up to $as_of.
WITH q AS (SELECT * FROM requests_on($as_of::DATE, $due_soon_days))
SELECT
    count(*) FILTER (is_open AND NOT is_hidden) AS open,
    count(*) FILTER (is_open AND NOT is_hidden AND clock = 'overdue') AS overdue,
    count(*) FILTER (is_open AND NOT is_hidden AND clock = 'due_soon') AS due_soon,
    count(*) FILTER (is_open AND is_hidden) AS hidden,
    count(*) FILTER (answered_in_90_days(answered_on_time, closed_date, $as_of::DATE))
        AS answered_90d,
    round(100.0 * avg(answered_on_time::INT) FILTER (
        answered_in_90_days(answered_on_time, closed_date, $as_of::DATE)), 1)
        AS on_time_pct_90d,
    median(closed_date - received_date) FILTER (
        answered_in_90_days(answered_on_time, closed_date, $as_of::DATE))
        AS median_days_90d
FROM q;
