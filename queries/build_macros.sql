-- Table macros every page query builds on, stored in every snapshot: the records, requests,
-- consents and breaches as they stood on a date, built from the derived tables and the scalar rules
-- of build_rules.sql (created after both).

-- R3.3: every hold that applies to a record on a date (holds, open requests, open incidents and
-- erasures under statutory retention, resolved to records by build_retention_records.sql); a record
-- that did not exist yet on that date is not held (nor listed at all).
CREATE OR REPLACE MACRO holds_on(as_of) AS TABLE
    SELECT * FROM hold_links
    WHERE valid_from <= as_of AND (valid_to IS NULL OR valid_to > as_of) AND record_exists(created_date, as_of)
      AND (kind <> 'erasure_statutory' OR erasure_restricts(statutory_duty, retained_until, as_of));

-- R3.3: the records held on a date, one row per record with the deciding hold (a record hold before a
-- subject hold).
CREATE OR REPLACE MACRO held_on(as_of) AS TABLE
    SELECT record_type, record_id, category, system, contact_id, anchor_date, retained_until, attachment_bytes,
           arg_min(kind, (precedence, hold_id)) AS hold_kind, arg_min(reason, (precedence, hold_id)) AS hold_reason,
           arg_min(ref, (precedence, hold_id)) AS hold_ref,
           arg_min(set_by, (precedence, hold_id)) AS hold_set_by,
           -- a restriction after an erasure request (section 5) is reviewed the day the record becomes due
           arg_min(coalesce(review_date, CASE WHEN kind = 'erasure_statutory' THEN retained_until + 1 END),
                   (precedence, hold_id)) AS hold_review_date
    FROM holds_on(as_of)
    GROUP BY ALL;

-- Section 5, R3.3: the records an erasure request restricts on a date instead of erasing them (a statute
-- obliges keeping them), each until its retained-until date, whichever hold decides held_on.
CREATE OR REPLACE MACRO restricted_on(as_of) AS TABLE
    SELECT DISTINCT record_type, record_id, category, system, contact_id, retained_until AS restricted_until
    FROM holds_on(as_of)
    WHERE kind = 'erasure_statutory';

-- R3.6, section 5: the unheld records an erasure makes due on a date, one row per record with its
-- finding (erasure not carried out before statutory retention ended) and the request or hold.
CREATE OR REPLACE MACRO erasure_on(as_of) AS TABLE
    SELECT e.record_type, e.record_id, e.category, e.system, e.contact_id, e.anchor_date, e.retained_until,
           e.attachment_bytes, arg_min(e.finding, (e.precedence, e.erasure_ref)) AS finding,
           arg_min(e.erasure_ref, (e.precedence, e.erasure_ref)) AS erasure_ref,
           arg_min(e.erasure_date, (e.precedence, e.erasure_ref)) AS erasure_date,
           -- the first day the finding applied (days overdue count from it)
           min(CASE e.finding WHEN 'erasure_not_carried_out' THEN e.erasure_date + g.days + 1
                              ELSE greatest(e.valid_from, e.retained_until + 1) END) AS due_from
    FROM erasure_links e, (SELECT erasure_grace_days AS days FROM rule_settings) g
    WHERE e.valid_from <= as_of AND (e.valid_to IS NULL OR e.valid_to > as_of) AND record_exists(e.created_date, as_of)
      AND CASE e.finding
              WHEN 'erasure_not_carried_out'
                  THEN erasure_not_carried_out(e.statutory_duty, e.created_date, e.erasure_date, g.days, as_of)
              ELSE e.statutory_duty AND NOT erasure_restricts(e.statutory_duty, e.retained_until, as_of) END
      AND NOT EXISTS (SELECT 1 FROM held_on(as_of) h WHERE h.record_type = e.record_type AND h.record_id = e.record_id)
    GROUP BY ALL;

-- R3.4: record counts per category, system, retained-until date and status on a date. Counted
-- from the per-day table, with the held records moved to "held" and the erased ones to "due", and
-- (looking back) the records that did not exist yet left out: no pass over every record. Those are
-- found by created_date, whose per-row-group minimum and maximum let a date after every creation
-- (today's) skip the whole table.
CREATE OR REPLACE MACRO retention_counts(as_of, window_days) AS TABLE
    WITH held AS (
        SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
        FROM held_on(as_of) GROUP BY ALL
    ), erased AS (
        SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
        FROM erasure_on(as_of) GROUP BY ALL
    ), later AS (
        SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
        FROM retention_records WHERE NOT record_exists(created_date, as_of) GROUP BY ALL
    )
    SELECT d.category, d.system, d.retained_until,
           retention_status(d.retained_until, as_of, false, window_days) AS status,
           d.records - coalesce(h.records, 0) - coalesce(e.records, 0) - coalesce(l.records, 0) AS records,
           d.attachment_bytes - coalesce(h.attachment_bytes, 0) - coalesce(e.attachment_bytes, 0)
               - coalesce(l.attachment_bytes, 0) AS attachment_bytes
    FROM retention_daily d LEFT JOIN held h USING (category, system, retained_until)
    LEFT JOIN erased e USING (category, system, retained_until)
    LEFT JOIN later l USING (category, system, retained_until)
    UNION ALL
    SELECT category, system, retained_until, 'held', records, attachment_bytes FROM held
    UNION ALL
    SELECT category, system, retained_until, 'due', records, attachment_bytes FROM erased;

-- R3.4: the records of the given statuses on a date, with the hold that stops their deletion or
-- the erasure finding that puts them first (days overdue counted from the day they became due). Unheld records are found by date (they are sorted by
-- retained-until), held ones from held_on, erased ones from erasure_on. erasure_ref names the erasure request
-- behind a due record, or the request, incident or hold behind a held one.
CREATE OR REPLACE MACRO retention_on(as_of, window_days, statuses) AS TABLE
    WITH held AS (SELECT * FROM held_on(as_of)), erased AS (SELECT * FROM erasure_on(as_of))
    SELECT r.category, r.system, r.record_type, r.record_id, r.contact_id, r.anchor_date, r.retained_until,
           r.attachment_bytes, NULL::VARCHAR AS hold_kind, NULL::VARCHAR AS hold_reason,
           NULL::VARCHAR AS hold_set_by, NULL::DATE AS hold_review_date,
           retention_status(r.retained_until, as_of, false, window_days) AS status,
           as_of - r.retained_until AS days_overdue, NULL::VARCHAR AS finding, NULL::VARCHAR AS erasure_ref
    FROM retention_records r
    WHERE r.retained_until <= as_of + window_days AND record_exists(r.created_date, as_of)
      AND list_contains(statuses, retention_status(r.retained_until, as_of, false, window_days))
      AND NOT EXISTS (SELECT 1 FROM held h WHERE h.record_type = r.record_type AND h.record_id = r.record_id)
      AND NOT EXISTS (SELECT 1 FROM erased e WHERE e.record_type = r.record_type AND e.record_id = r.record_id)
    UNION ALL
    SELECT e.category, e.system, e.record_type, e.record_id, e.contact_id, e.anchor_date, e.retained_until,
           e.attachment_bytes, NULL, NULL, NULL, NULL, 'due', as_of - e.due_from + 1, e.finding, e.erasure_ref
    FROM erased e
    WHERE list_contains(statuses, 'due')
    UNION ALL
    SELECT h.category, h.system, h.record_type, h.record_id, h.contact_id, h.anchor_date, h.retained_until,
           h.attachment_bytes, h.hold_kind, h.hold_reason, h.hold_set_by, h.hold_review_date, 'held',
           as_of - h.retained_until, NULL, h.hold_ref
    FROM held h
    WHERE list_contains(statuses, 'held');

-- R1.8: requests as the work queue sees them on a date.
CREATE OR REPLACE MACRO requests_on(as_of, due_soon_days) AS TABLE
    SELECT r.*,
           -- Open on as_of: received by then and not yet closed then (so looking back works too).
           request_open_on(r.status, r.received_date, r.closed_date, as_of) AS is_open,
           r.status IN ('unverified', 'duplicate') AS is_hidden,
           r.deadline - as_of AS days_left,
           request_status(r.deadline, as_of, due_soon_days) AS clock,
           coalesce((SELECT sum(coalesce(p.end_date, as_of) - p.start_date)
                     FROM request_pauses p WHERE p.request_id = r.request_id AND p.start_date <= as_of), 0)
               ::INTEGER AS paused_days
    FROM requests r;

-- R1.2 (receipt dates are Berlin dates; otherwise no rule of its own): the page's filters of a request's
-- own facts (right, channel, assignee, receipt date), shared by the queue, its chart by right and the
-- monthly chart; an empty list or a NULL date means "no filter".
CREATE OR REPLACE MACRO request_chosen(req_right, req_channel, req_assignee, req_received,
                                       rights, channels, assignees, received_from, received_to) AS
    (len(rights) = 0 OR list_contains(rights, req_right))
    AND (len(channels) = 0 OR list_contains(channels, req_channel))
    AND (len(assignees) = 0 OR list_contains(assignees, req_assignee))
    AND req_received BETWEEN coalesce(received_from::DATE, DATE '1900-01-01')
                         AND coalesce(received_to::DATE, DATE '2999-12-31');

-- R1.8: the open requests the DPO's filters leave on a date: the queue and the bar chart above it.
CREATE OR REPLACE MACRO open_requests_filtered(as_of, due_soon_days, show_hidden, rights, statuses, assignees,
                                               channels, overdue_only, due_within, received_from, received_to) AS TABLE
    SELECT *
    FROM requests_on(as_of, due_soon_days)
    WHERE is_open AND (NOT is_hidden OR show_hidden)
      AND request_chosen("right", channel, assignee, received_date, rights, channels, assignees,
                         received_from, received_to)
      AND (len(statuses) = 0 OR list_contains(statuses, status))
      AND (NOT overdue_only OR clock = 'overdue')
      AND (due_within IS NULL OR days_left <= due_within);

-- R4.2, R4.4: every (subject, purpose) asked by as_of, with its state and the proof of its current
-- consent cycle: the one span of build_consent_spans.sql that covers as_of.
CREATE OR REPLACE MACRO consent_on(as_of) AS TABLE
    SELECT contact_id, purpose, state, withdrawn_at, first_asked_at, signup_channel, requested_at, confirmed_at,
           given_at, proof_version AS notice_version, proof_channel AS channel, proof_inferred
    FROM consent_spans
    WHERE day <= as_of AND (next_day IS NULL OR next_day > as_of);

-- R2.2-R2.4a: confirmed personal-data breaches (aware by as_of) as they stood at as_of: what had
-- not happened by then (notification, information, exemption, containment, closing) is NULL. With
-- their clock, the hours to notify and from detection to awareness, and the Art. 34 status.
CREATE OR REPLACE MACRO breaches_on(as_of, warning_hours) AS TABLE
    WITH i AS (
        SELECT * REPLACE (stood_at(authority_notified_at, as_of) AS authority_notified_at,
                          stood_at(subjects_informed_at, as_of) AS subjects_informed_at,
                          CASE WHEN coalesce(art34_exemption_at <= as_of, true) THEN art34_exemption END
                              AS art34_exemption,
                          stood_at(contained_at, as_of) AS contained_at, stood_at(closed_at, as_of) AS closed_at)
        FROM incidents
        WHERE aware_at IS NOT NULL AND aware_at <= as_of AND status <> 'not_personal_data'
    )
    SELECT i.*,
           breach_clock_status(i.notification_deadline, i.risk, i.authority_notified_at, as_of, warning_hours)
               AS clock,
           i.risk IS DISTINCT FROM 'none' AS notification_required,
           epoch(i.authority_notified_at - i.aware_at) / 3600 AS hours_to_notify,
           epoch(i.aware_at - i.detected_at) / 3600 AS hours_to_aware,
           art34_status(i.risk, i.subjects_informed_at, i.art34_exemption, as_of, i.art34_exemption_at) AS art34,
           NOT incident_closed(i.closed_at, as_of) AS still_open
    FROM i;

-- R3.5: the data subjects whose master data may be deleted on as_of: none of their records (that
-- existed then) is still retained, approaching or held; nothing of theirs still runs (an open
-- ticket, a contract without an end); no active consent needs their e-mail; no open request,
-- subject hold or incident concerns them. A contact with no records at all qualifies too
-- (deletable now: last_retained_until is NULL); otherwise from max(retained-until).
CREATE OR REPLACE MACRO deletable_on(as_of) AS TABLE
    WITH erased AS (SELECT contact_id, record_type, record_id FROM erasure_on(as_of)),
    -- Per subject as it stood on as_of: from subject_retention where every record existed by then and
    -- none is erased; otherwise recounted from the subject's records: an erasure's subject from
    -- erasure_subject_records (all their records, few), any other subject of a look-back (one whose
    -- newest record came later) from retention_records, which is not read at all when there is none.
    later AS (SELECT contact_id FROM subject_retention WHERE last_created > as_of),
    records AS (
        SELECT contact_id, record_type, record_id, created_date, retained_until FROM erasure_subject_records
        WHERE contact_id IN (SELECT contact_id FROM later UNION SELECT contact_id FROM erased)
        UNION ALL
        SELECT contact_id, record_type, record_id, created_date, retained_until FROM retention_records
        WHERE contact_id IN (SELECT contact_id FROM later)
          AND contact_id NOT IN (SELECT contact_id FROM erasure_subject_records)
    ), recounted AS (
        SELECT r.contact_id, count(*) AS records, max(r.retained_until) AS last_retained_until,
               bool_or(r.retained_until >= as_of AND NOT EXISTS (
                   SELECT 1 FROM erased e WHERE e.record_type = r.record_type AND e.record_id = r.record_id))
                   AS still_kept
        FROM records r
        WHERE record_exists(r.created_date, as_of)
        GROUP BY r.contact_id
    ), subjects AS (
        SELECT contact_id, records, last_retained_until, last_retained_until >= as_of AS still_kept
        FROM subject_retention
        WHERE last_created <= as_of AND contact_id NOT IN (SELECT contact_id FROM erased)
        UNION ALL
        SELECT * FROM recounted
    ), kept AS (
        SELECT contact_id FROM subjects WHERE still_kept
        UNION ALL SELECT contact_id FROM held_on(as_of)
        UNION ALL SELECT contact_id FROM subject_running WHERE since <= as_of
        UNION ALL SELECT contact_id FROM consent_on(as_of) WHERE state = 'active'
        UNION ALL SELECT record_id FROM hold_sources
                  WHERE record_type = 'subject' AND kind <> 'erasure_statutory'
                    AND valid_from <= as_of AND (valid_to IS NULL OR valid_to > as_of)
    )
    SELECT c.contact_id, coalesce(s.records, 0) AS records, s.last_retained_until
    FROM contacts c LEFT JOIN subjects s USING (contact_id)
    -- R3.5 looking back: only contacts that existed on as_of (created on or before that Berlin date,
    -- i.e. before the Berlin midnight that ends it: compared as instants, no per-row conversion)
    WHERE c.created_at < berlin_midnight(as_of + 1)
      AND c.contact_id NOT IN (SELECT contact_id FROM kept WHERE contact_id IS NOT NULL);
