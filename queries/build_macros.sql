-- Status rules that depend on the chosen "as of" moment, stored in every snapshot as macros.
-- They are the SQL twins of request_status, retention_status and breach_clock in
-- dashboard/deadlines.py (DOMAIN.md R1.8, R3.4, R2.4); tests/test_rule_twins.py checks that both
-- give the same answer on every edge. The dates they compare are computed by deadlines.py itself.

CREATE OR REPLACE MACRO is_open_request(status) AS
    status NOT IN ('completed', 'rejected', 'withdrawn');

CREATE OR REPLACE MACRO request_status(deadline, as_of, due_soon_days) AS
    CASE
        WHEN deadline < as_of THEN 'overdue'
        WHEN deadline - as_of <= due_soon_days THEN 'due_soon'
        ELSE 'on_track'
    END;

CREATE OR REPLACE MACRO retention_status(retained_until, as_of, held, window_days) AS
    CASE
        WHEN held THEN 'held'
        WHEN retained_until < as_of THEN 'due'
        WHEN retained_until - as_of <= window_days THEN 'approaching'
        ELSE 'retained'
    END;

CREATE OR REPLACE MACRO breach_clock_status(deadline, risk, notified_at, as_of, warning_hours) AS
    CASE
        WHEN risk = 'none' THEN 'not_required'
        WHEN notified_at IS NOT NULL AND notified_at <= deadline THEN 'notified_on_time'
        WHEN notified_at IS NOT NULL THEN 'notified_late'
        WHEN as_of > deadline THEN 'overdue'
        WHEN deadline - as_of < to_hours(warning_hours) THEN 'warning'
        ELSE 'open'
    END;

-- R2.3: the Art. 34 status of a breach (twin of deadlines.art34_status).
CREATE OR REPLACE MACRO art34_status(risk, subjects_informed_at, exemption) AS
    CASE
        WHEN subjects_informed_at IS NOT NULL THEN 'informed'
        WHEN risk = 'high' THEN CASE WHEN exemption IS NOT NULL THEN 'exempt' ELSE 'outstanding' END
        WHEN risk IS NULL OR risk = 'unassessed' THEN 'to_assess'
        ELSE 'not_required'
    END;

-- R3.3: holds in force on a date. Set and released timestamps count by their Europe/Berlin date.
-- Besides recorded holds (legal, tax, erasure under statutory retention), an open data-subject
-- request holds all records of its subject (an open restriction request, Art. 18, says so by name),
-- and an open incident holds the records linked to it.
CREATE OR REPLACE MACRO active_holds(as_of) AS TABLE
    SELECT hold_id, record_type, record_id, kind, reason, set_by, review_date
    FROM holds
    WHERE timezone('Europe/Berlin', set_at)::DATE <= as_of
      AND (released_at IS NULL OR timezone('Europe/Berlin', released_at)::DATE > as_of)
    UNION ALL
    SELECT request_id, 'subject', contact_id,
           CASE WHEN "right" = 'restriction' THEN 'restriction' ELSE 'open_request' END,
           CASE WHEN "right" = 'restriction' THEN 'Einschränkung der Verarbeitung beantragt (Art. 18 DSGVO)'
                ELSE 'Offene Betroffenenanfrage (' || "right" || ')' END,
           assignee, deadline
    FROM requests
    WHERE is_open_request(status) AND status <> 'duplicate' AND contact_id IS NOT NULL
      AND received_date <= as_of
    UNION ALL
    -- An incident under investigation holds the records it concerns, until it is closed or found
    -- not to involve personal data.
    SELECT l.link_id, l.record_type, l.record_id, 'incident', 'Offene Datenpanne ' || i.incident_id,
           NULL, NULL::DATE
    FROM incident_records l JOIN incidents i USING (incident_id)
    WHERE i.status NOT IN ('closed', 'not_personal_data')
      AND timezone('Europe/Berlin', i.detected_at)::DATE <= as_of
      AND (i.closed_at IS NULL OR timezone('Europe/Berlin', i.closed_at)::DATE > as_of);

-- R3.4: every governed record with its status on a date, and the hold that stops its deletion.
CREATE OR REPLACE MACRO retention_on(as_of, window_days) AS TABLE
    WITH h AS (
        SELECT record_type, record_id,
               arg_min(kind, hold_id) AS hold_kind, arg_min(reason, hold_id) AS hold_reason,
               arg_min(set_by, hold_id) AS hold_set_by, min(review_date) AS hold_review_date
        FROM active_holds(as_of) GROUP BY ALL
    )
    SELECT r.*,
           coalesce(hr.hold_kind, hs.hold_kind) AS hold_kind,
           coalesce(hr.hold_reason, hs.hold_reason) AS hold_reason,
           coalesce(hr.hold_set_by, hs.hold_set_by) AS hold_set_by,
           coalesce(hr.hold_review_date, hs.hold_review_date) AS hold_review_date,
           retention_status(r.retained_until, as_of,
                            hr.record_id IS NOT NULL OR hs.record_id IS NOT NULL, window_days) AS status,
           as_of - r.retained_until AS days_overdue
    FROM retention_records r
    LEFT JOIN h hr ON hr.record_type = r.record_type AND hr.record_id = r.record_id
    LEFT JOIN h hs ON hs.record_type = 'subject' AND hs.record_id = r.contact_id;

-- R1.8: requests as the work queue sees them on a date.
CREATE OR REPLACE MACRO requests_on(as_of, due_soon_days) AS TABLE
    SELECT r.*,
           -- Open on as_of: received by then and not yet closed then (so looking back works too).
           r.received_date <= as_of AND (is_open_request(r.status) OR r.closed_date > as_of) AS is_open,
           r.status IN ('unverified', 'duplicate') AS is_hidden,
           r.deadline - as_of AS days_left,
           request_status(r.deadline, as_of, due_soon_days) AS clock,
           coalesce((SELECT sum(coalesce(p.end_date, as_of) - p.start_date)
                     FROM request_pauses p WHERE p.request_id = r.request_id AND p.start_date <= as_of), 0)
               ::INTEGER AS paused_days
    FROM requests r;

-- R4.2: consent events with their Berlin day and lifecycle step, duplicates removed. At the same
-- instant the later step wins (withdrawn > confirmed/granted > requested), as in consent_state.
CREATE OR REPLACE MACRO consent_steps() AS TABLE
    SELECT DISTINCT contact_id, purpose, action, occurred_at, notice_version, channel,
           timezone('Europe/Berlin', occurred_at)::DATE AS day,
           CASE action WHEN 'requested' THEN 0 WHEN 'withdrawn' THEN 2 ELSE 1 END AS step
    FROM consent_events;

-- R4.2, R4.4: every (subject, purpose) asked by as_of, with its state and the proof of its current
-- consent cycle (the events after the last withdrawal): notice version, channel, when it was
-- requested, confirmed (double opt-in) and given.
CREATE OR REPLACE MACRO consent_on(as_of) AS TABLE
    WITH e AS (SELECT * FROM consent_steps() WHERE day <= as_of),
    pair AS (
        SELECT contact_id, purpose,
               CASE arg_max(action, (occurred_at, step))
                   WHEN 'requested' THEN 'pending' WHEN 'withdrawn' THEN 'withdrawn' ELSE 'active' END AS state,
               max(occurred_at) FILTER (action = 'withdrawn') AS withdrawn_at,
               min(occurred_at) AS first_asked_at,
               arg_min(channel, (occurred_at, step)) AS signup_channel
        FROM e GROUP BY ALL
    )
    SELECT p.*,
           max(e.occurred_at) FILTER (e.action = 'requested') AS requested_at,
           max(e.occurred_at) FILTER (e.action = 'confirmed') AS confirmed_at,
           max(e.occurred_at) FILTER (e.action IN ('granted', 'confirmed')) AS given_at,
           arg_max(e.notice_version, e.occurred_at) FILTER (e.notice_version IS NOT NULL) AS notice_version,
           arg_max(e.channel, e.occurred_at) AS channel
    FROM pair p
    LEFT JOIN e ON e.contact_id = p.contact_id AND e.purpose = p.purpose AND e.action <> 'withdrawn'
               AND (p.withdrawn_at IS NULL OR e.occurred_at > p.withdrawn_at)
    GROUP BY ALL;

-- R4.4: what is wrong with the proof of a consent, if anything (one finding, the most serious).
CREATE OR REPLACE MACRO consent_finding(purpose, state, notice_version, requested_at, confirmed_at, as_of,
                                        current_version, pending_days) AS
    CASE
        WHEN state = 'active' AND notice_version IS NULL THEN 'no_notice_version'
        WHEN state = 'active' AND purpose = 'newsletter' AND confirmed_at IS NULL THEN 'no_confirmation'
        WHEN state = 'active' AND notice_version <> current_version THEN 'outdated_version'
        WHEN state = 'pending' AND as_of - timezone('Europe/Berlin', requested_at)::DATE > pending_days
            THEN 'stale_pending'
    END;

-- R2.2-R2.4: confirmed personal-data breaches (aware by as_of) with their clock on as_of, the hours
-- left (open, warning) or late (overdue: so far; notified late: at notification), and Art. 34 status.
CREATE OR REPLACE MACRO breaches_on(as_of, warning_hours) AS TABLE
    SELECT i.*,
           breach_clock_status(i.notification_deadline, i.risk, i.authority_notified_at, as_of, warning_hours)
               AS clock,
           i.risk IS DISTINCT FROM 'none' AS notification_required,
           epoch(i.authority_notified_at - i.aware_at) / 3600 AS hours_to_notify,
           epoch(i.aware_at - i.detected_at) / 3600 AS hours_to_aware,
           art34_status(i.risk, i.subjects_informed_at, i.art34_exemption) AS art34
    FROM incidents i
    WHERE i.aware_at IS NOT NULL AND i.aware_at <= as_of AND i.status <> 'not_personal_data';
