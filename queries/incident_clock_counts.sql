-- Confirmed personal-data breaches by 72-hour clock status at $as_of (R2.4).
SELECT clock, count(*) AS incidents, count(*) FILTER (closed_at IS NULL) AS still_open
FROM breaches_on($as_of::TIMESTAMPTZ, $warning_hours)
GROUP BY ALL
ORDER BY clock;
