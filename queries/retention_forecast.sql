-- Records becoming deletable per month over the 12 months after $as_of, by category: a record
-- may go from the day after its retained-until date (R3.1). Held records are left out (they
-- become deletable only when their hold is released), and so are those already due (R3.6). Of the
-- page's chosen categories and systems (an empty list means all).
SELECT date_trunc('month', retained_until + 1)::DATE AS month, category, sum(records)::BIGINT AS records
FROM retention_counts($as_of::DATE, 0)
WHERE status NOT IN ('held', 'due')
  AND retained_until + 1 > $as_of::DATE
  AND retained_until + 1 < date_trunc('month', $as_of::DATE) + INTERVAL 12 MONTH
  AND (len($categories) = 0 OR list_contains($categories, category))
  AND (len($systems) = 0 OR list_contains($systems, system))
GROUP BY ALL
HAVING sum(records) > 0
ORDER BY month, category;
