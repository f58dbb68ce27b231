-- Before an Art. 15 package is sent: the subject's records whose retention period ended before $as_of and
-- that no hold keeps (the package would tell the subject the company keeps data beyond its own notice).
SELECT count(*)::BIGINT AS records, min(retained_until) AS earliest
FROM retention_on($as_of::DATE, 0, ['due'])
WHERE contact_id = $contact_id AND retained_until < $as_of::DATE;
