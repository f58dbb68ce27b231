-- The rules that depend on the chosen "as of" moment, stored in every snapshot as scalar macros.
-- Each is the SQL twin of the function of the same name in dashboard/deadlines.py (DOMAIN.md);
-- tests/test_rule_twins.py checks that both give the same answer on every edge. The dates they
-- compare are computed by deadlines.py itself. Created before the derived dates and tables, which use them;
-- the table macros over those tables are in build_macros.sql.

-- R3.1: a ticket's retention anchor, its closing day in Europe/Berlin (only a closed ticket has one);
-- the build computes each such day's retained-until date with deadlines.retention_end.
CREATE OR REPLACE MACRO ticket_closed_date(status, closed_at) AS
    CASE WHEN status = 'closed' THEN berlin_date(closed_at) END;

-- R1.8 (amended 2026-12-06): open while not completed, rejected or withdrawn; a duplicate only until its
-- closing, when one is recorded (twin of deadlines.is_open_request).
CREATE OR REPLACE MACRO is_open_request(status, closed_date) AS
    status NOT IN ('completed', 'rejected', 'withdrawn') AND NOT (status = 'duplicate' AND closed_date IS NOT NULL);

-- R1.8, R3.3 looking back: received by as_of and not closed by then (twin of deadlines.request_open_on).
CREATE OR REPLACE MACRO request_open_on(status, received_date, closed_date, as_of) AS
    received_date <= as_of AND (is_open_request(status, closed_date) OR coalesce(closed_date > as_of, false));

-- R3.4 (amended 2026-12-06): a record exists from its creation (ticket opened, contract start, invoice
-- date, Europe/Berlin); a look back counts only what existed then (twin of deadlines.record_exists).
CREATE OR REPLACE MACRO record_exists(created_date, as_of) AS
    created_date <= as_of;

-- R1.1, R1.6: a request's clock against its binding deadline on as_of (twin of deadlines.request_status).
CREATE OR REPLACE MACRO request_status(deadline, as_of, due_soon_days) AS
    CASE
        WHEN deadline < as_of THEN 'overdue'
        WHEN deadline - as_of <= due_soon_days THEN 'due_soon'
        ELSE 'on_track'
    END;

-- R3.4: a record's status on as_of: held, due (past retention or erased by R3.6), approaching, retained
-- (twin of deadlines.retention_status).
CREATE OR REPLACE MACRO retention_status(retained_until, as_of, held, window_days, erasure_due := false) AS
    CASE
        WHEN held THEN 'held'
        WHEN retained_until < as_of OR erasure_due THEN 'due'
        WHEN retained_until - as_of <= window_days THEN 'approaching'
        ELSE 'retained'
    END;

-- R1.9: "the last N days" on as_of holds exactly N dates (twin of deadlines.in_last_days).
CREATE OR REPLACE MACRO in_last_days(day, as_of, days) AS
    day > as_of - days AND day <= as_of;

-- R1.9: a request answered (on time or late) in the 90 dates up to as_of: what the on-time figure
-- counts and the list behind it shows.
CREATE OR REPLACE MACRO answered_in_90_days(answered_on_time, closed_date, as_of) AS
    answered_on_time IS NOT NULL AND in_last_days(closed_date, as_of, 90);

-- Section 5 and R3.6 (twins of deadlines.erasure_restricts and deadlines.erasure_not_carried_out);
-- held_on and erasure_on apply them to hold_links and erasure_links on the date looked at.
CREATE OR REPLACE MACRO erasure_restricts(statutory_duty, retained_until, as_of) AS
    statutory_duty AND as_of <= retained_until;

-- R3.6: a record without statutory duty that existed when the erasure was completed and is still here
-- after the grace days.
CREATE OR REPLACE MACRO erasure_not_carried_out(statutory_duty, created_on, completed_on, grace_days, as_of) AS
    NOT statutory_duty AND created_on <= completed_on AND as_of > completed_on + grace_days;

-- R2.4a: a recorded moment counts at as_of only if it had happened by then (twin of deadlines.stood_at).
CREATE OR REPLACE MACRO stood_at(moment, as_of) AS
    CASE WHEN moment <= as_of THEN moment END;

-- R2.4b: closed at as_of once closed_at has passed (twin of deadlines.incident_closed).
CREATE OR REPLACE MACRO incident_closed(closed_at, as_of) AS
    coalesce(closed_at <= as_of, false);

-- R2.1, R2.3, R2.4: the 72-hour clock of a confirmed breach at as_of (twin of deadlines.breach_clock).
CREATE OR REPLACE MACRO breach_clock_status(deadline, risk, notified_at, as_of, warning_hours) AS
    CASE
        WHEN risk = 'none' THEN 'not_required'
        WHEN notified_at <= as_of AND notified_at <= deadline THEN 'notified_on_time'
        WHEN notified_at <= as_of THEN 'notified_late'
        WHEN as_of > deadline THEN 'overdue'
        WHEN deadline - as_of < to_hours(warning_hours) THEN 'warning'
        ELSE 'open'
    END;

-- R2.3, R2.4a: the Art. 34 status of a breach at as_of (twin of deadlines.art34_status).
CREATE OR REPLACE MACRO art34_status(risk, subjects_informed_at, exemption, as_of, exemption_at) AS
    CASE
        WHEN subjects_informed_at <= as_of THEN 'informed'
        WHEN risk = 'high' THEN CASE WHEN exemption IS NOT NULL AND coalesce(exemption_at <= as_of, true)
                                     THEN 'exempt' ELSE 'outstanding' END
        WHEN risk IS NULL OR risk = 'unassessed' THEN 'to_assess'
        ELSE 'not_required'
    END;

-- R4.4: everything wrong with the proof of a consent, as a list (one consent may have several;
-- twin of deadlines.consent_findings).
CREATE OR REPLACE MACRO consent_findings(purpose, state, notice_version, requested_at, confirmed_at, as_of,
                                         current_version, pending_days, inferred := false) AS
    list_filter([
        CASE WHEN state = 'active' AND coalesce(inferred, false) THEN 'inferred_proof' END,
        CASE WHEN state = 'active' AND notice_version IS NULL THEN 'no_notice_version' END,
        CASE WHEN state = 'active' AND purpose = 'newsletter' AND confirmed_at IS NULL THEN 'no_confirmation' END,
        CASE WHEN state = 'active' AND notice_version <> current_version THEN 'outdated_version' END,
        CASE WHEN state = 'pending' AND as_of - berlin_date(requested_at) > pending_days
             THEN 'stale_pending' END
    ], lambda f: f IS NOT NULL);
