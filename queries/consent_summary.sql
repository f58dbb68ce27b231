-- Consent figures per purpose on $as_of (R4.2, R4.3): consent rate = active / asked; double-opt-in
-- rate = confirmed / requested in the current cycles; withdrawals in the 30 days up to $as_of and
-- the withdrawal rate = those withdrawals / consents active 30 days before.
WITH now_ AS (
    SELECT purpose, count(*) AS asked,
           count(*) FILTER (state = 'active') AS active,
           count(*) FILTER (state = 'pending') AS pending,
           count(*) FILTER (state = 'withdrawn') AS withdrawn,
           count(*) FILTER (requested_at IS NOT NULL) AS doi_requested,
           count(*) FILTER (requested_at IS NOT NULL AND confirmed_at >= requested_at) AS doi_confirmed
    FROM consent_on($as_of::DATE) GROUP BY ALL
), before AS (
    SELECT purpose, count(*) FILTER (state = 'active') AS active_30d_ago
    FROM consent_on($as_of::DATE - 30) GROUP BY ALL
), withdrawals AS (
    SELECT purpose, count(*) AS withdrawals_30d
    FROM consent_spans
    WHERE action = 'withdrawn' AND day > $as_of::DATE - 30 AND day <= $as_of::DATE
    GROUP BY ALL
)
SELECT n.purpose, n.asked, n.active, n.pending, n.withdrawn,
       round(100.0 * n.active / n.asked, 1) AS consent_rate_pct,
       n.doi_requested, n.doi_confirmed,
       round(100.0 * n.doi_confirmed / nullif(n.doi_requested, 0), 1) AS doi_rate_pct,
       coalesce(w.withdrawals_30d, 0) AS withdrawals_30d,
       coalesce(b.active_30d_ago, 0) AS active_30d_ago,
       round(100.0 * coalesce(w.withdrawals_30d, 0) / nullif(b.active_30d_ago, 0), 2) AS withdrawal_rate_pct
FROM now_ n LEFT JOIN before b USING (purpose) LEFT JOIN withdrawals w USING (purpose)
ORDER BY n.purpose;
