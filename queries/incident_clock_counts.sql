-- Confirmed personal-data breaches by 72-hour clock status at $as_of (R2.4).
SELECT breach_clock_status(notification_deadline, risk, authority_notified_at, $as_of::TIMESTAMPTZ,
                           $warning_hours) AS clock,
       count(*) AS incidents,
       count(*) FILTER (closed_at IS NULL) AS still_open
FROM incidents
WHERE aware_at IS NOT NULL AND aware_at <= $as_of::TIMESTAMPTZ AND status <> 'not_personal_data'
GROUP BY ALL
ORDER BY clock;
