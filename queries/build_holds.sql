-- What holds a record and what an erasure puts first on the deletion list, from the privacy register and
-- retention_records: made on every build (the register changes by the hour).

-- R3.3: everything that can hold a record, with the dates it holds it from and until (exclusive):
-- recorded holds (legal, tax, erasure under statutory retention) from set_at until release; data-
-- subject requests from receipt until closing, while open by R1.8 (an open restriction request,
-- Art. 18, says so by name; a duplicate until its closing when one is recorded); section 5: a
-- completed erasure request restricts the subject's records under a statutory duty from its
-- completion on, whether or not a hold row was recorded (the request is the trigger; held_on applies
-- erasure_restricts, so only statutory records and only until their retained-until; the review date
-- is then the day each becomes due); incidents with their records from awareness (detection while
-- awareness is not recorded: the safer reading) until closing.
-- Timestamps count by their Europe/Berlin date; closed requests and incidents are kept, so that a
-- look back at a date sees the holds of that date. A recorded hold keeps the reason its author typed;
-- a hold the rules derive says why by a code (catalogue group hold_reason: the page and the file show
-- it in their language) and names what holds (ref: the request or incident; a recorded hold's own id).
CREATE TABLE hold_sources AS
SELECT hold_id, record_type, record_id, kind, reason, set_by, review_date,
       berlin_date(set_at) AS valid_from,
       berlin_date(released_at) AS valid_to, hold_id AS ref
FROM holds
UNION ALL
SELECT request_id, 'subject', contact_id,
       CASE WHEN "right" = 'restriction' THEN 'restriction' ELSE 'open_request' END,
       CASE WHEN "right" = 'restriction' THEN 'restriction_requested' ELSE 'open_request' END,
       assignee, deadline, received_date,
       CASE WHEN NOT is_open_request(status, closed_date) THEN coalesce(closed_date, received_date) END, request_id
FROM requests
WHERE contact_id IS NOT NULL
UNION ALL
SELECT request_id, 'subject', contact_id, 'erasure_statutory', 'erasure_statutory', assignee, NULL::DATE,
       closed_date, NULL, request_id
FROM requests
WHERE contact_id IS NOT NULL AND "right" = 'erasure' AND status = 'completed' AND closed_date IS NOT NULL
UNION ALL
SELECT l.link_id, l.record_type, l.record_id, 'incident', 'open_incident', NULL, NULL::DATE,
       berlin_date(coalesce(i.aware_at, i.detected_at)),
       berlin_date(i.closed_at), i.incident_id
FROM incident_records l JOIN incidents i USING (incident_id)
WHERE i.status <> 'not_personal_data';

-- Each hold joined to the records it covers (a subject hold covers all the subject's records);
-- record holds take precedence over subject holds when both apply. Whether an erasure under
-- statutory retention still holds a record on a date is the rule erasure_restricts, applied by held_on.
-- One pass over retention_records picks the records any hold names (1M of 21M in the large profile);
-- every statement below reads only those. They include every record of every subject a request names
-- (each request is a subject hold above), so of every erasure request's subject too: the erasure
-- tables below find all their records here (two more passes over every record cost 2.5 s).
CREATE TEMP TABLE _named_records AS
SELECT * FROM retention_records
WHERE record_id IN (SELECT record_id FROM hold_sources WHERE record_type <> 'subject')
   OR contact_id IN (SELECT record_id FROM hold_sources WHERE record_type = 'subject');

CREATE TABLE hold_links AS
SELECT s.hold_id, s.kind, s.reason, s.ref, s.set_by, s.review_date, s.valid_from, s.valid_to, 0 AS precedence, r.*
FROM hold_sources s JOIN _named_records r ON r.record_type = s.record_type AND r.record_id = s.record_id
UNION ALL
SELECT s.hold_id, s.kind, s.reason, s.ref, s.set_by, s.review_date, s.valid_from, s.valid_to, 1, r.*
FROM hold_sources s JOIN _named_records r ON s.record_type = 'subject' AND r.contact_id = s.record_id;

-- R3.6 and section 5: what an erasure can put first on the deletion list, with the window in which
-- it applies; erasure_on decides per date with the rules erasure_not_carried_out / erasure_restricts.
-- "erasure_not_carried_out": every record of a subject whose erasure request was completed.
-- "erasure_statutory_ended": every record an erasure under statutory retention covers.
CREATE TABLE erasure_links AS
SELECT 'erasure_not_carried_out' AS finding, 0 AS precedence, q.request_id AS erasure_ref,
       q.closed_date AS erasure_date, q.closed_date AS valid_from, NULL::DATE AS valid_to, r.*
FROM requests q JOIN _named_records r ON r.contact_id = q.contact_id
WHERE q."right" = 'erasure' AND q.status = 'completed' AND q.closed_date IS NOT NULL
UNION ALL
SELECT 'erasure_statutory_ended', 1, hold_id, valid_from, valid_from, valid_to,
       l.* EXCLUDE (hold_id, kind, reason, ref, set_by, review_date, valid_from, valid_to, precedence)
FROM hold_links l
WHERE kind = 'erasure_statutory';

-- R3.5 for the subjects an erasure concerns: all their records (a few thousand), so that
-- deletable_on recounts them without a pass over every record (it has to leave out the erased ones
-- on each date). Look-backs recount the subjects whose newest record came later from retention_records.
CREATE TABLE erasure_subject_records AS
SELECT contact_id, record_type, record_id, created_date, retained_until
FROM _named_records
WHERE contact_id IN (SELECT contact_id FROM erasure_links WHERE contact_id IS NOT NULL);

DROP TABLE _named_records;
