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
