-- Per purpose and month of the 24 up to $as_of (R4.3): subjects asked and consents active at month
-- end (or $as_of in the current month), grants and withdrawals in the month, the withdrawal rate
-- (withdrawals / active at the start of the month) and the double-opt-in rate of the month's
-- requests (the share whose next event was the confirmation). $channels (empty: all) filters by
-- the channel a subject signed up on.
-- From consent_spans by counting: a span counts as active from the month of its day up to (not
-- including) the month of its next_day, so a running sum per month gives the state at month end.
WITH bounds AS (
    SELECT date_trunc('month', $as_of::DATE)::DATE AS last_month,
           (date_trunc('month', $as_of::DATE) - INTERVAL 24 MONTH)::DATE AS first_month
), months AS (
    SELECT unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH))::DATE AS month FROM bounds
), spans AS (
    SELECT s.*, greatest(date_trunc('month', s.day)::DATE, b.first_month) AS from_month,
           CASE WHEN s.next_day <= $as_of::DATE THEN greatest(date_trunc('month', s.next_day)::DATE, b.first_month)
           END AS to_month
    FROM consent_spans s, bounds b
    WHERE s.day <= $as_of::DATE AND (len($channels) = 0 OR list_contains($channels, s.signup_channel))
), changes AS (
    SELECT purpose, from_month AS month, count(*) FILTER (state = 'active') AS active_change,
           count(*) FILTER (seq = 1) AS asked_change
    FROM spans GROUP BY ALL
    UNION ALL
    SELECT purpose, to_month, -count(*) FILTER (state = 'active'), 0
    FROM spans WHERE to_month IS NOT NULL GROUP BY ALL
), flows AS (
    SELECT purpose, date_trunc('month', day)::DATE AS month,
           count(*) FILTER (action IN ('granted', 'confirmed')) AS grants,
           count(*) FILTER (action = 'withdrawn') AS withdrawals,
           count(*) FILTER (action = 'requested') AS requested,
           count(*) FILTER (action = 'requested' AND next_action = 'confirmed') AS confirmed
    FROM spans GROUP BY ALL
), purposes AS (SELECT DISTINCT purpose FROM spans
), grid AS (
    SELECT m.month, u.purpose,
           sum(coalesce(c.active_change, 0)) AS active_change, sum(coalesce(c.asked_change, 0)) AS asked_change
    FROM months m CROSS JOIN purposes u
    LEFT JOIN changes c ON c.month = m.month AND c.purpose = u.purpose
    GROUP BY ALL
), running AS (
    SELECT month, purpose,
           sum(asked_change) OVER w AS asked, sum(active_change) OVER w AS active
    FROM grid WINDOW w AS (PARTITION BY purpose ORDER BY month ROWS UNBOUNDED PRECEDING)
)
SELECT r.month, r.purpose, r.asked::BIGINT AS asked, r.active::BIGINT AS active,
       round(100.0 * r.active / nullif(r.asked, 0), 1) AS consent_rate_pct,
       coalesce(f.grants, 0) AS grants, coalesce(f.withdrawals, 0) AS withdrawals,
       round(100.0 * coalesce(f.withdrawals, 0)
             / nullif(lag(r.active) OVER (PARTITION BY r.purpose ORDER BY r.month), 0), 2) AS withdrawal_rate_pct,
       round(100.0 * coalesce(f.confirmed, 0) / nullif(f.requested, 0), 1) AS doi_rate_pct
FROM running r LEFT JOIN flows f USING (month, purpose)
QUALIFY r.month > (SELECT first_month FROM bounds)
ORDER BY r.purpose, r.month;
