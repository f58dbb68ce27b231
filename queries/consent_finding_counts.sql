-- R4.4 on $as_of: how many consents per purpose have each finding (proof missing, outdated notice
-- version $current_version, opt-in pending longer than $pending_days days). A consent with several
-- findings counts under each; the row with finding 'any' counts every consent with a finding once.
WITH found AS (
    SELECT purpose, consent_findings(purpose, state, notice_version, requested_at, confirmed_at, $as_of::DATE,
                                     $current_version, $pending_days, inferred := proof_inferred) AS findings
    FROM consent_on($as_of::DATE)
)
SELECT purpose, finding, count(*) AS consents
FROM (SELECT purpose, unnest(findings) AS finding FROM found)
GROUP BY ALL
UNION ALL
SELECT purpose, 'any', count(*) FROM found WHERE len(findings) > 0 GROUP BY ALL
ORDER BY purpose, finding;
