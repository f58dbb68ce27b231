-- Confirmed personal-data breaches by 72-hour clock status at $as_of (R2.4), and how many were not
-- closed yet then (R2.4b).
SELECT clock, count(*) AS incidents, count(*) FILTER (still_open) AS still_open
FROM breaches_on($as_of::TIMESTAMPTZ, $warning_hours)
GROUP BY ALL
ORDER BY clock;
