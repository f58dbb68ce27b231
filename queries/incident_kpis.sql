-- Breach KPIs for the 12 months up to $as_of (aware in that window; R2, DOMAIN.md KPIs):
-- share notified within 72 h of the notifiable breaches whose clock has run out or stopped;
-- median and p95 hours from awareness to notification; median hours from detection to awareness;
-- late notifications without a documented reason.
SELECT count(*) AS breaches,
       count(*) FILTER (clock IN ('notified_on_time', 'notified_late', 'overdue')) AS decided,
       count(*) FILTER (clock = 'notified_on_time') AS on_time,
       round(100.0 * count(*) FILTER (clock = 'notified_on_time')
             / nullif(count(*) FILTER (clock IN ('notified_on_time', 'notified_late', 'overdue')), 0), 1)
           AS on_time_pct,
       round(median(hours_to_notify), 1) AS median_hours_to_notify,
       round(quantile_cont(hours_to_notify, 0.95), 1) AS p95_hours_to_notify,
       round(median(hours_to_aware), 1) AS median_hours_to_aware,
       count(*) FILTER (clock = 'notified_late' AND coalesce(trim(delay_reason), '') = '') AS late_without_reason
FROM breaches_on($as_of::TIMESTAMPTZ, $warning_hours)
WHERE aware_at > $as_of::TIMESTAMPTZ - to_months(12);
