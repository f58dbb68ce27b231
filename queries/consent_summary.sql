-- Consent state per purpose on $as_of (R4.2, R4.3): the latest event of each (subject, purpose)
-- decides; at the same instant the later lifecycle step wins (withdrawn > confirmed/granted > requested).
WITH latest AS (
    SELECT contact_id, purpose,
           arg_max(action, (occurred_at, CASE action WHEN 'requested' THEN 0 WHEN 'withdrawn' THEN 2 ELSE 1 END))
               AS action
    FROM consent_events
    WHERE timezone('Europe/Berlin', occurred_at)::DATE <= $as_of::DATE
    GROUP BY ALL
), confirmed AS (
    SELECT DISTINCT contact_id, purpose FROM consent_events
    WHERE action = 'confirmed' AND timezone('Europe/Berlin', occurred_at)::DATE <= $as_of::DATE
)
SELECT l.purpose,
       count(*) AS asked,
       count(*) FILTER (l.action IN ('confirmed', 'granted')) AS active,
       count(*) FILTER (l.action = 'requested') AS pending,
       count(*) FILTER (l.action = 'withdrawn') AS withdrawn,
       round(100.0 * count(*) FILTER (l.action IN ('confirmed', 'granted')) / count(*), 1) AS consent_rate_pct,
       round(100.0 * count(c.contact_id) / count(*), 1) AS confirmed_pct
FROM latest l LEFT JOIN confirmed c USING (contact_id, purpose)
GROUP BY ALL
ORDER BY l.purpose;
