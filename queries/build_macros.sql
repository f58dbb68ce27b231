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

-- R3.3: the records held on a date (holds, open requests and open incidents resolved to records
-- by build_retention_records.sql), one row per record with the deciding hold.
CREATE OR REPLACE MACRO held_on(as_of) AS TABLE
    SELECT record_type, record_id, category, system, contact_id, anchor_date, retained_until, attachment_bytes,
           arg_min(kind, (precedence, hold_id)) AS hold_kind, arg_min(reason, (precedence, hold_id)) AS hold_reason,
           arg_min(set_by, (precedence, hold_id)) AS hold_set_by,
           arg_min(review_date, (precedence, hold_id)) AS hold_review_date
    FROM hold_links
    WHERE valid_from <= as_of AND (valid_to IS NULL OR valid_to > as_of)
    GROUP BY ALL;

-- R3.4: record counts per category, system, retained-until date and status on a date. Counted
-- from the per-day table, with the held records moved to "held": no pass over every record.
CREATE OR REPLACE MACRO retention_counts(as_of, window_days) AS TABLE
    WITH held AS (
        SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
        FROM held_on(as_of) GROUP BY ALL
    )
    SELECT d.category, d.system, d.retained_until,
           retention_status(d.retained_until, as_of, false, window_days) AS status,
           d.records - coalesce(h.records, 0) AS records,
           d.attachment_bytes - coalesce(h.attachment_bytes, 0) AS attachment_bytes
    FROM retention_daily d LEFT JOIN held h USING (category, system, retained_until)
    UNION ALL
    SELECT category, system, retained_until, 'held', records, attachment_bytes FROM held;

-- R3.4: the records of the given statuses on a date, with the hold that stops their deletion.
-- Unheld records are found by date (they are sorted by retained-until), held ones from held_on.
CREATE OR REPLACE MACRO retention_on(as_of, window_days, statuses) AS TABLE
    WITH held AS (SELECT * FROM held_on(as_of))
    SELECT r.*, NULL::VARCHAR AS hold_kind, NULL::VARCHAR AS hold_reason, NULL::VARCHAR AS hold_set_by,
           NULL::DATE AS hold_review_date, retention_status(r.retained_until, as_of, false, window_days) AS status,
           as_of - r.retained_until AS days_overdue
    FROM retention_records r
    WHERE r.retained_until <= as_of + window_days
      AND list_contains(statuses, retention_status(r.retained_until, as_of, false, window_days))
      AND NOT EXISTS (SELECT 1 FROM held h WHERE h.record_type = r.record_type AND h.record_id = r.record_id)
    UNION ALL
    SELECT h.category, h.system, h.record_type, h.record_id, h.contact_id, h.anchor_date, h.retained_until,
           h.attachment_bytes, h.hold_kind, h.hold_reason, h.hold_set_by, h.hold_review_date, 'held',
           as_of - h.retained_until
    FROM held h
    WHERE list_contains(statuses, 'held');

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

-- R4.2, R4.4: every (subject, purpose) asked by as_of, with its state and the proof of its current
-- consent cycle: the one span of build_consent_spans.sql that covers as_of.
CREATE OR REPLACE MACRO consent_on(as_of) AS TABLE
    SELECT contact_id, purpose, state, withdrawn_at, first_asked_at, signup_channel, requested_at, confirmed_at,
           given_at, proof_version AS notice_version, proof_channel AS channel
    FROM consent_spans
    WHERE day <= as_of AND (next_day IS NULL OR next_day > as_of);

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
