-- Confirmed breaches by type per quarter of awareness (Europe/Berlin), the 12 quarters up to $as_of.
SELECT date_trunc('quarter', berlin_time(aware_at))::DATE AS quarter, type, count(*) AS breaches
FROM breaches_on($as_of::TIMESTAMPTZ, 24)
WHERE berlin_time(aware_at) >= date_trunc('quarter', berlin_time($as_of::TIMESTAMPTZ))
                                             - INTERVAL 33 MONTH
GROUP BY ALL
ORDER BY quarter, type;
