-- A representative's request (a lawyer, a relative) names its data subject by e-mail
-- (requests.subject_email): the subject is the person with that e-mail in any contacts source, when
-- exactly one person has it. When none does (or several), the request has no subject, and
-- Datenqualität says so (never a guess). Runs after people are merged across sources.
CREATE TEMP TABLE _named AS
SELECT r.request_id,
       (SELECT CASE WHEN count(*) = 1 THEN min(c.contact_id) END FROM contacts c
        WHERE lower(trim(c.email)) = lower(trim(r.subject_email))) AS person
FROM requests r WHERE r.subject_email IS NOT NULL;

INSERT INTO source_findings
SELECT getvariable('requests_source'), 'request_subject_unknown', request_id, 'requests' FROM _named WHERE person IS NULL ORDER BY request_id;

UPDATE requests SET contact_id = _named.person FROM _named WHERE requests.request_id = _named.request_id;

DROP TABLE _named;
