"""The statutory clocks of ``shared/DOMAIN.md``, implemented once.

Every page, query and snapshot column that needs a deadline, a retention date or a clock status
gets it from here (the snapshot build materialises these dates with ``dashboard.build.tables.apply_rule``, which
calls these same functions once per distinct input; the as-of rules have SQL twins in
``queries/build_rules.sql``, checked against these by ``tests/test_rule_twins.py``). Nothing here
imports Streamlit, and nothing reads "today" on its own: callers pass ``as_of`` so results are
reproducible and a user can look ahead.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from dashboard.policy import Policy, load_policy
from dashboard.sqltext import BERLIN_ZONE

BERLIN = ZoneInfo(BERLIN_ZONE)
UTC = dt.UTC
BREACH_NOTIFICATION_WINDOW = dt.timedelta(hours=72)  # Art. 33(1) GDPR
OPEN_REQUEST_EXCLUDED = frozenset({"completed", "rejected", "withdrawn"})  # R1.8
ANSWERED = frozenset({"completed", "rejected"})  # R1.9


# --- calendar -------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-number ``months`` later, clamped to the month's last day (Reg. 1182/71 Art. 3)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=8)
def _holiday_calendar(extra: tuple[dt.date, ...]) -> holidays.HolidayBase:
    # R1.5: public holidays of Rhineland-Palatinate only (§ 2 LFtG RP), plus configured one-offs.
    cal = holidays.country_holidays("DE", subdiv="RP", categories=("public",))
    cal.update({day: EXTRA_HOLIDAY for day in extra})
    return cal


EXTRA_HOLIDAY = "extra_holiday"
HOLIDAY_LANGUAGES = {"de": "de", "en": "en_US"}  # UI language -> the holidays package's


@lru_cache(maxsize=4)
def _holiday_names(language: str) -> holidays.HolidayBase:
    return holidays.country_holidays("DE", subdiv="RP", categories=("public",), language=language)


def holiday_name(day: dt.date, language: str) -> str | None:
    """The name of the RP public holiday on ``day`` in the UI language ("de" or "en"), or None."""
    return _holiday_names(HOLIDAY_LANGUAGES.get(language, "de")).get(day)


def holiday_calendar(policy: Policy | None = None) -> holidays.HolidayBase:
    policy = policy or load_policy()
    return _holiday_calendar(policy.settings.extra_holidays)


def non_working_reason(day: dt.date, policy: Policy | None = None) -> str | None:
    """Why ``day`` is not a working day in RP, as a code the UI translates: "saturday", "sunday",
    "holiday" (a public holiday; ``holiday_name`` gives its name), "extra_holiday" (configured), or None."""
    if day.weekday() == 5:
        return "saturday"
    if day.weekday() == 6:
        return "sunday"
    name = holiday_calendar(policy).get(day)
    if name is None:
        return None
    return EXTRA_HOLIDAY if name == EXTRA_HOLIDAY else "holiday"


def is_working_day(day: dt.date, policy: Policy | None = None) -> bool:
    return non_working_reason(day, policy) is None


def roll_to_working_day(day: dt.date, policy: Policy | None = None) -> dt.date:
    """Art. 3(4) Reg. 1182/71: a period ending on a weekend or holiday ends on the next working day."""
    while not is_working_day(day, policy):
        day += dt.timedelta(days=1)
    return day


def berlin_date(moment: dt.datetime) -> dt.date:
    """The Europe/Berlin calendar date of an aware timestamp (R1.2)."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (stored in UTC); got a naive datetime")
    return moment.astimezone(BERLIN).date()


# --- data-subject requests (R1) ---------------------------------------------------------------


def request_raw_due_date(received: dt.date) -> dt.date:
    """R1.3: one month after receipt, clamped to month end, before rolling."""
    return add_months(received, 1)


def request_due_date(received: dt.date, policy: Policy | None = None) -> dt.date:
    """R1.3-R1.5: statutory deadline (Art. 12(3) GDPR) for a request received on ``received``."""
    return roll_to_working_day(request_raw_due_date(received), policy)


def request_extended_due_date(received: dt.date, policy: Policy | None = None) -> dt.date:
    """R1.6: two further months, chained from the *unrolled* one-month date (the safest reading)."""
    return roll_to_working_day(add_months(request_raw_due_date(received), 2), policy)


@dataclass(frozen=True)
class DeadlineExplanation:
    """How a deadline was reached, for the DPO's drill-down."""

    raw: dt.date
    due: dt.date
    skipped: tuple[tuple[dt.date, str], ...]  # the non-working days rolled over, with the reason


def explain_roll(raw: dt.date, policy: Policy | None = None) -> DeadlineExplanation:
    skipped = []
    day = raw
    while (reason := non_working_reason(day, policy)) is not None:
        skipped.append((day, reason))
        day += dt.timedelta(days=1)
    return DeadlineExplanation(raw=raw, due=day, skipped=tuple(skipped))


@dataclass(frozen=True)
class RequestDeadline:
    due: dt.date
    extended_due: dt.date
    extension: str  # "none", "valid" or "invalid_late" (R1.6)
    deadline: dt.date  # the one that binds: extended_due only if validly extended


def request_deadline(
    received: dt.date, extension_notified_on: dt.date | None, policy: Policy | None = None
) -> RequestDeadline:
    """R1.6: the binding deadline; an extension counts only if the subject was told by ``due``."""
    due = request_due_date(received, policy)
    extended = request_extended_due_date(received, policy)
    if extension_notified_on is None:
        return RequestDeadline(due, extended, "none", due)
    if extension_notified_on <= due:
        return RequestDeadline(due, extended, "valid", extended)
    return RequestDeadline(due, extended, "invalid_late", due)


def is_open_request(status: str, closed_on: dt.date | None = None) -> bool:
    """R1.8: open while not completed, rejected or withdrawn; a duplicate only until its closing, when
    one is recorded (amended 2026-12-06: a closed duplicate no longer holds its subject for ever)."""
    if status in OPEN_REQUEST_EXCLUDED:
        return False
    return not (status == "duplicate" and closed_on is not None)


def request_open_on(status: str, received_on: dt.date, closed_on: dt.date | None, as_of: dt.date) -> bool:
    """R1.8, R3.3 looking back: open on ``as_of`` if received by then and not closed by then."""
    return received_on <= as_of and (is_open_request(status, closed_on) or (closed_on is not None
                                                                          and closed_on > as_of))


REQUEST_CLOCKS = ("overdue", "due_soon", "on_track")  # what request_status returns, most urgent first


def request_status(deadline: dt.date, as_of: dt.date, due_soon_days: int) -> str:
    """R1.8: ``overdue``, ``due_soon`` or ``on_track`` for an open request on ``as_of``."""
    days_left = (deadline - as_of).days
    if days_left < 0:
        return "overdue"
    if days_left <= due_soon_days:
        return "due_soon"
    return "on_track"


def answered_on_time(status: str, closed_on: dt.date | None, deadline: dt.date) -> bool | None:
    """R1.9: True/False for an answered (completed or rejected) request, None otherwise."""
    if status not in ANSWERED or closed_on is None:
        return None
    return closed_on <= deadline


def in_last_days(day: dt.date | None, as_of: dt.date, days: int) -> bool:
    """R1.9: "the last N days" on ``as_of`` holds exactly N dates: ``as_of - N < day <= as_of``."""
    return day is not None and as_of - dt.timedelta(days=days) < day <= as_of


# --- breaches (R2) ----------------------------------------------------------------------------

NOTIFIABLE_RISKS = frozenset({"risk", "high", None, "unassessed"})  # R2.3: unassessed counts


def breach_notification_deadline(aware_at: dt.datetime) -> dt.datetime:
    """R2.2: exactly 72 hours after awareness, in UTC; weekends and holidays never extend it."""
    if aware_at.tzinfo is None or aware_at.utcoffset() is None:
        raise ValueError(
            "aware_at must be timezone-aware (e.g. 2025-10-24 10:00+02:00); a naive datetime is ambiguous"
        )
    return aware_at.astimezone(UTC) + BREACH_NOTIFICATION_WINDOW


def breach_notifiable(risk: str | None) -> bool:
    """R2.3: notify on ``risk`` or ``high``; an unassessed risk counts as notifiable."""
    return risk in NOTIFIABLE_RISKS


@dataclass(frozen=True)
class BreachClock:
    status: str  # notified_on_time | notified_late | not_required | open | warning | overdue
    deadline: dt.datetime
    hours_left: float | None  # open/warning: hours to the deadline; overdue/late: negative
    late_without_reason: bool


def stood_at(moment: dt.datetime | None, at: dt.datetime) -> dt.datetime | None:
    """R2.4a: a recorded moment counts at ``at`` only if it had happened by then."""
    return moment if moment is not None and moment <= at else None


# What breach_clock's status can be, most urgent first.
BREACH_CLOCKS = ("overdue", "warning", "open", "notified_late", "notified_on_time", "not_required")


def breach_clock(
    aware_at: dt.datetime,
    risk: str | None,
    authority_notified_at: dt.datetime | None,
    as_of: dt.datetime,
    delay_reason: str | None = None,
    warning_hours: int = 24,
) -> BreachClock:
    """R2.4, R2.4a: the 72-hour clock of a confirmed breach as it stood at ``as_of``.

    The breach must exist then (``aware_at <= as_of``); a notification after ``as_of`` had not
    happened yet, so the clock is ``open``/``warning``/``overdue`` at that moment, never ``notified_*``.
    """
    deadline = breach_notification_deadline(aware_at)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    if aware_at > as_of:
        raise ValueError("the breach was not known yet at as_of (R2.4a: it exists from aware_at)")
    if not breach_notifiable(risk):
        return BreachClock("not_required", deadline, None, False)
    notified_at = stood_at(authority_notified_at, as_of)
    if notified_at is not None:
        late_by = (notified_at - deadline).total_seconds() / 3600
        if late_by <= 0:
            return BreachClock("notified_on_time", deadline, None, False)
        return BreachClock("notified_late", deadline, -late_by, not (delay_reason or "").strip())
    hours_left = (deadline - as_of).total_seconds() / 3600
    if hours_left < 0:
        return BreachClock("overdue", deadline, hours_left, False)
    return BreachClock("warning" if hours_left < warning_hours else "open", deadline, hours_left, False)


def art34_status(risk: str | None, subjects_informed_at: dt.datetime | None, exemption: str | None,
                 as_of: dt.datetime, exemption_at: dt.datetime | None = None) -> str:
    """R2.3, R2.4a: whether the data subjects had to be told (Art. 34) and whether that was settled at ``as_of``.

    ``informed``; ``exempt`` (an Art. 34(3) a/b/c exemption recorded); ``outstanding`` (high risk,
    neither); ``to_assess`` (risk not assessed yet: it may turn out high); ``not_required``. An
    information or exemption counts only from its timestamp; an exemption recorded without one is
    taken as part of the risk assessment and counts throughout.
    """
    if stood_at(subjects_informed_at, as_of) is not None:
        return "informed"
    if risk == "high":
        exempt = exemption is not None and (exemption_at is None or exemption_at <= as_of)
        return "exempt" if exempt else "outstanding"
    if risk in (None, "unassessed"):
        return "to_assess"
    return "not_required"


def incident_closed(closed_at: dt.datetime | None, at: dt.datetime) -> bool:
    """R2.4b: an incident is closed at ``at`` once its ``closed_at`` has passed; one definition everywhere.

    (A record that says "closed" without ``closed_at`` never reaches a snapshot: the build rejects it.)
    """
    return stood_at(closed_at, at) is not None


# --- retention (R3) ---------------------------------------------------------------------------


def retention_end(category: str, anchor: dt.date, policy: Policy | None = None) -> dt.date:
    """R3.1/R3.2: the last day a record of ``category`` anchored at ``anchor`` may be kept."""
    rule = (policy or load_policy()).rule(category)
    start = dt.date(anchor.year, 12, 31) if rule.from_end_of_year else anchor
    if rule.unit == "days":
        return start + dt.timedelta(days=rule.period)
    months = rule.period * (12 if rule.unit == "years" else 1)
    return add_months(start, months)


RETENTION_STATUSES = ("due", "approaching", "held", "retained")  # what retention_status returns


def retention_status(retained_until: dt.date, as_of: dt.date, held: bool, window_days: int,
                     erasure_due: bool = False) -> str:
    """R3.4: ``held``, ``due`` (past retention, or R3.6: erased but still there), ``approaching`` or ``retained``."""
    if held:
        return "held"
    days_left = (retained_until - as_of).days
    if days_left < 0 or erasure_due:
        return "due"
    if days_left <= window_days:
        return "approaching"
    return "retained"


def record_exists(created_on: dt.date, as_of: dt.date) -> bool:
    """R3.4 (amended 2026-12-06): a record exists from its creation (ticket opened, contract start,
    invoice date, Europe/Berlin); a look back counts only the records that existed on ``as_of``."""
    return created_on <= as_of


def erasure_restricts(statutory_duty: bool, retained_until: dt.date, as_of: dt.date) -> bool:
    """DOMAIN.md section 5: an erasure request restricts (holds) a record only if a statute obliges
    keeping it, and only until its retained-until date; from the next day the record is due."""
    return statutory_duty and as_of <= retained_until


def erasure_not_carried_out(statutory_duty: bool, created_on: dt.date, completed_on: dt.date, grace_days: int,
                            as_of: dt.date) -> bool:
    """R3.6: a record that existed when the erasure request was completed on ``completed_on``, in a
    category without statutory duty, that is still there after ``completed_on + grace_days``."""
    return (not statutory_duty and created_on <= completed_on
            and as_of > completed_on + dt.timedelta(days=grace_days))


def master_data_deletable(record_statuses: list[str], running: bool, active_consent: bool,
                          concerned: bool) -> bool:
    """R3.5: no record still retained, approaching or held, nothing running (an open ticket, a contract
    without an end), no active consent (the newsletter needs the e-mail), no open request, subject
    hold or incident that concerns the subject."""
    return (all(s == "due" for s in record_statuses) and not running and not active_consent
            and not concerned)


# --- consent (R4) -----------------------------------------------------------------------------

CONSENT_STATE_OF_ACTION = {"requested": "pending", "confirmed": "active", "granted": "active", "withdrawn": "withdrawn"}


def consent_state(events: list[tuple[dt.datetime, str]]) -> str | None:
    """R4.2: the state of a (subject, purpose) pair is given by its latest event.

    Events may arrive out of order and duplicated; ties at the same instant resolve to the
    later step of the lifecycle (withdrawn > confirmed/granted > requested), the safest reading.
    """
    if not events:
        return None
    order = {"requested": 0, "granted": 1, "confirmed": 1, "withdrawn": 2}
    _, action = max(events, key=lambda e: (e[0], order[e[1]]))
    return CONSENT_STATE_OF_ACTION[action]


CONSENT_FINDINGS = ("no_notice_version", "no_confirmation", "outdated_version", "stale_pending", "inferred_proof")


def consent_findings(purpose: str, state: str, notice_version: str | None, requested_at: dt.datetime | None,
                     confirmed_at: dt.datetime | None, as_of: dt.date, current_version: str,
                     pending_days: int, inferred: bool = False) -> tuple[str, ...]:
    """R4.4: every finding on the proof of one consent (its current cycle); one consent may have several.

    ``no_notice_version``, ``no_confirmation`` (newsletter without double opt-in), ``outdated_version``
    (given under an older notice: to review), ``stale_pending`` (opt-in requested more than
    ``pending_days`` days ago and never confirmed: to purge), ``inferred_proof`` (R4.1: the consent
    ledger reconstructed the consent from a store's state when it first read it, so its time and
    confirmation were not observed as they happened: weaker proof).
    """
    found = []
    if state == "active":
        if inferred:
            found.append("inferred_proof")
        if notice_version is None:
            found.append("no_notice_version")
        if purpose == "newsletter" and confirmed_at is None:
            found.append("no_confirmation")
        if notice_version is not None and notice_version != current_version:
            found.append("outdated_version")
    elif state == "pending" and requested_at is not None and (as_of - berlin_date(requested_at)).days > pending_days:
        found.append("stale_pending")
    return tuple(found)

