-- Confirmed breaches by type per quarter of awareness (Europe/Berlin), the 12 quarters up to $as_of.
SELECT date_trunc('quarter', timezone('Europe/Berlin', aware_at))::DATE AS quarter, type, count(*) AS breaches
FROM breaches_on($as_of::TIMESTAMPTZ, 24)
WHERE timezone('Europe/Berlin', aware_at) >= date_trunc('quarter', timezone('Europe/Berlin', $as_of::TIMESTAMPTZ))
                                             - INTERVAL 33 MONTH
GROUP BY ALL
ORDER BY quarter, type;
