-- Per purpose and month of the 24 up to $as_of (R4.3): the state at month end (or $as_of in the
-- current month) from each pair's event history, grants and withdrawals in the month, the
-- withdrawal rate (withdrawals / active at the start of the month) and the double-opt-in rate of
-- the month's requests (the share whose next event was the confirmation). $channels (empty: all) filters by the channel a subject signed up on.
WITH months AS (
    SELECT month, least(last_day(month), $as_of::DATE) AS month_end
    -- one month more than shown, so the first shown month has a start-of-month figure
    FROM (SELECT unnest(generate_series(date_trunc('month', $as_of::DATE) - INTERVAL 24 MONTH,
                                        date_trunc('month', $as_of::DATE), INTERVAL 1 MONTH))::DATE AS month)
), e AS (
    SELECT s.*, first_value(channel) OVER (PARTITION BY contact_id, purpose ORDER BY occurred_at, step) AS signup
    FROM consent_steps() s
), picked AS (
    SELECT * FROM e WHERE len($channels) = 0 OR list_contains($channels, signup)
), spans AS (  -- each event's state holds from its day until the day of the next event of the pair
    SELECT purpose, action, day,
           lead(action) OVER (PARTITION BY contact_id, purpose ORDER BY occurred_at, step) AS next_action,
           lead(day) OVER (PARTITION BY contact_id, purpose ORDER BY occurred_at, step) AS next_day,
           row_number() OVER (PARTITION BY contact_id, purpose ORDER BY occurred_at, step) = 1 AS first_event
    FROM picked
), states AS (
    SELECT m.month, s.purpose,
           count(*) FILTER (s.first_event) AS asked_new,
           count(*) FILTER (s.action IN ('granted', 'confirmed') AND s.day <= m.month_end
                            AND (s.next_day IS NULL OR s.next_day > m.month_end)) AS active
    FROM months m JOIN spans s ON s.day <= m.month_end
    GROUP BY ALL
), flows AS (
    SELECT m.month, p.purpose,
           count(*) FILTER (p.action IN ('granted', 'confirmed')) AS grants,
           count(*) FILTER (p.action = 'withdrawn') AS withdrawals,
           count(*) FILTER (p.action = 'requested') AS requested,
           count(*) FILTER (p.action = 'requested' AND p.next_action = 'confirmed') AS confirmed
    FROM months m JOIN spans p ON p.day BETWEEN m.month AND m.month_end
    GROUP BY ALL
), purposes AS (SELECT DISTINCT purpose FROM picked)
SELECT * FROM (
SELECT m.month, u.purpose,
       coalesce(s.asked_new, 0) AS asked, coalesce(s.active, 0) AS active,
       round(100.0 * coalesce(s.active, 0) / nullif(s.asked_new, 0), 1) AS consent_rate_pct,
       coalesce(f.grants, 0) AS grants, coalesce(f.withdrawals, 0) AS withdrawals,
       round(100.0 * coalesce(f.withdrawals, 0)
             / nullif(lag(coalesce(s.active, 0)) OVER (PARTITION BY u.purpose ORDER BY m.month), 0), 2)
           AS withdrawal_rate_pct,
       round(100.0 * coalesce(f.confirmed, 0) / nullif(f.requested, 0), 1) AS doi_rate_pct
FROM months m CROSS JOIN purposes u
LEFT JOIN states s ON s.month = m.month AND s.purpose = u.purpose
LEFT JOIN flows f ON f.month = m.month AND f.purpose = u.purpose
)
WHERE month > date_trunc('month', $as_of::DATE) - INTERVAL 24 MONTH
ORDER BY purpose, month;
