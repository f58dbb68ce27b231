-- R4.4 on $as_of: the consents with finding $finding (see consent_findings; a consent may have several), oldest first.
SELECT c.contact_id, c.purpose, c.state, c.first_asked_at, c.requested_at, c.confirmed_at, c.given_at,
       c.notice_version, c.channel
FROM consent_on($as_of::DATE) c
WHERE list_contains(consent_findings(c.purpose, c.state, c.notice_version, c.requested_at, c.confirmed_at,
                                     $as_of::DATE, $current_version, $pending_days,
                                     inferred := c.proof_inferred), $finding)
  AND (len($purposes) = 0 OR list_contains($purposes, c.purpose))
ORDER BY coalesce(c.given_at, c.requested_at), c.contact_id;
