-- R4.4 on $as_of: how many consents per purpose have each finding (proof missing, outdated notice
-- version $current_version, opt-in pending longer than $pending_days days).
SELECT purpose, finding, count(*) AS consents
FROM (SELECT purpose, consent_finding(purpose, state, notice_version, requested_at, confirmed_at, $as_of::DATE,
                                      $current_version, $pending_days) AS finding
      FROM consent_on($as_of::DATE))
WHERE finding IS NOT NULL
GROUP BY ALL
ORDER BY purpose, finding;
