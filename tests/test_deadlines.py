"""DOMAIN.md rules: every listed vector, plus properties that hold for every other case."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import deadlines as d

BERLIN = ZoneInfo("Europe/Berlin")
D = dt.date.fromisoformat

REQUEST_VECTORS = [
    ("2025-01-15", "2025-02-17", "2025-04-15"),
    ("2025-02-28", "2025-03-28", "2025-05-28"),
    ("2025-03-18", "2025-04-22", "2025-06-18"),
    ("2025-04-01", "2025-05-02", "2025-07-01"),
    ("2025-04-08", "2025-05-08", "2025-07-08"),
    ("2025-04-29", "2025-05-30", "2025-07-29"),
    ("2025-05-09", "2025-06-10", "2025-08-11"),
    ("2025-05-19", "2025-06-20", "2025-08-19"),
    ("2025-09-03", "2025-10-06", "2025-12-03"),
    ("2025-10-01", "2025-11-03", "2026-01-02"),
    ("2025-11-25", "2025-12-29", "2026-02-25"),
    ("2025-12-25", "2026-01-26", "2026-03-25"),
    ("2026-03-03", "2026-04-07", "2026-06-03"),
    ("2026-05-04", "2026-06-05", "2026-08-04"),
    ("2026-11-26", "2026-12-28", "2027-02-26"),
    ("2026-12-06", "2027-01-06", "2027-03-08"),
    ("2027-02-26", "2027-03-30", "2027-05-26"),
    ("2027-11-24", "2027-12-24", "2028-02-24"),
]


@pytest.mark.parametrize(("received", "due", "extended"), REQUEST_VECTORS)
def test_request_vectors(received, due, extended):
    assert d.request_due_date(D(received)) == D(due)
    assert d.request_extended_due_date(D(received)) == D(extended)


def test_rp_holidays_exactly():
    cal = d.holiday_calendar()
    for day in ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25",
                "2026-06-04", "2026-10-03", "2026-11-01", "2026-12-25", "2026-12-26"]:
        assert D(day) in cal, day
    for day in ["2026-01-06", "2026-08-15", "2026-10-31", "2026-12-24", "2026-12-31", "2026-11-18"]:
        assert D(day) not in cal, day


def test_extension_chains_from_unrolled_date():
    # 2025-01-31 -> raw 2025-02-28 (clamped) -> +2 months = 2025-04-28, not 2025-04-30.
    assert d.request_extended_due_date(D("2025-01-31")) == D("2025-04-28")
    # 2026-04-04 -> raw 2026-05-04; rolled due would differ from raw only if 05-04 were off.
    assert d.request_extended_due_date(D("2026-01-31")) == D("2026-04-28")


def test_extension_validity():
    received = D("2025-01-15")  # due 2025-02-17
    assert d.request_deadline(received, None).deadline == D("2025-02-17")
    on_due = d.request_deadline(received, D("2025-02-17"))
    assert (on_due.extension, on_due.deadline) == ("valid", D("2025-04-15"))
    late = d.request_deadline(received, D("2025-02-18"))
    assert (late.extension, late.deadline) == ("invalid_late", D("2025-02-17"))


def test_request_status_edges():
    deadline = D("2026-12-01")
    assert d.request_status(deadline, D("2026-12-02"), 7) == "overdue"
    assert d.request_status(deadline, D("2026-12-01"), 7) == "due_soon"  # 0 days left
    assert d.request_status(deadline, D("2026-11-24"), 7) == "due_soon"  # 7 days left
    assert d.request_status(deadline, D("2026-11-23"), 7) == "on_track"


def test_answered_on_time():
    assert d.answered_on_time("completed", D("2026-12-01"), D("2026-12-01")) is True
    assert d.answered_on_time("rejected", D("2026-12-02"), D("2026-12-01")) is False
    assert d.answered_on_time("withdrawn", D("2026-12-02"), D("2026-12-01")) is None
    assert d.answered_on_time("in_progress", None, D("2026-12-01")) is None


def test_open_statuses():
    assert not d.is_open_request("completed") and not d.is_open_request("withdrawn")
    assert d.is_open_request("unverified") and d.is_open_request("paused")
    # R1.8 amended 2026-12-06: a duplicate is open until its closing, when one is recorded.
    assert d.is_open_request("duplicate") and d.is_open_request("duplicate", None)
    assert not d.is_open_request("duplicate", D("2025-05-02"))
    assert d.is_open_request("in_progress", D("2025-05-02"))  # a reopened request: its old closing does not close it


def test_explain_roll_names_the_days():
    explanation = d.explain_roll(D("2026-12-25"))
    assert explanation.due == D("2026-12-28")
    assert explanation.skipped == ((D("2026-12-25"), "holiday"), (D("2026-12-26"), "saturday"),
                                   (D("2026-12-27"), "sunday"))
    # Codes, translated by the UI; a holiday's name in the UI's language.
    assert d.holiday_name(D("2026-12-26"), "de") == "Zweiter Weihnachtstag"
    assert d.holiday_name(D("2026-12-26"), "en") == "Second Day of Christmas"
    assert d.non_working_reason(D("2026-12-19")) == "saturday" and d.non_working_reason(D("2026-12-21")) is None


# --- breach clock ------------------------------------------------------------------------------

def test_breach_vectors():
    dst = d.breach_notification_deadline(dt.datetime(2025, 10, 24, 10, tzinfo=BERLIN))
    assert dst.astimezone(BERLIN) == dt.datetime(2025, 10, 27, 9, tzinfo=BERLIN)
    assert dst.astimezone(BERLIN).utcoffset() == dt.timedelta(hours=1)
    assert dst.tzinfo == dt.UTC
    friday = d.breach_notification_deadline(dt.datetime(2025, 12, 19, 16, tzinfo=BERLIN))
    assert friday.astimezone(BERLIN) == dt.datetime(2025, 12, 22, 16, tzinfo=BERLIN)


def test_breach_spring_dst():
    deadline = d.breach_notification_deadline(dt.datetime(2026, 3, 27, 12, tzinfo=BERLIN))
    assert deadline.astimezone(BERLIN) == dt.datetime(2026, 3, 30, 13, tzinfo=BERLIN)


def test_breach_naive_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        d.breach_notification_deadline(dt.datetime(2025, 10, 24, 10))


def _clock(**kw):
    aware = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    args = dict(aware_at=aware, risk="risk", authority_notified_at=None, as_of=aware, delay_reason=None)
    args.update(kw)
    return d.breach_clock(**args)


def test_breach_clock_states():
    aware = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    deadline = aware + dt.timedelta(hours=72)
    assert _clock(risk="none").status == "not_required"
    assert _clock(risk=None).status == "open"  # unassessed counts as notifiable
    assert _clock(risk="unassessed", as_of=deadline).status == "warning"  # exactly at the deadline
    assert _clock(as_of=deadline).hours_left == 0
    assert _clock(as_of=deadline + dt.timedelta(seconds=1)).status == "overdue"
    assert _clock(as_of=deadline - dt.timedelta(hours=24)).status == "open"  # 24 h left: not under 24
    assert _clock(as_of=deadline - dt.timedelta(hours=23, minutes=59)).status == "warning"
    later = deadline + dt.timedelta(days=30)
    assert _clock(authority_notified_at=deadline, as_of=later).status == "notified_on_time"
    late = _clock(authority_notified_at=deadline + dt.timedelta(hours=2), as_of=later)
    assert (late.status, late.late_without_reason) == ("notified_late", True)
    excused = _clock(authority_notified_at=deadline + dt.timedelta(hours=2), delay_reason="Forensik", as_of=later)
    assert (excused.status, excused.late_without_reason) == ("notified_late", False)


def test_breach_clock_looks_back_as_things_stood():
    """R2.4a: before its notification a breach is open or overdue, never notified; it does not exist
    before awareness."""
    aware = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    deadline = aware + dt.timedelta(hours=72)
    notified = deadline + dt.timedelta(hours=10)  # notified late
    assert _clock(authority_notified_at=notified, as_of=deadline - dt.timedelta(hours=30)).status == "open"
    assert _clock(authority_notified_at=notified, as_of=deadline - dt.timedelta(hours=3)).status == "warning"
    assert _clock(authority_notified_at=notified, as_of=notified - dt.timedelta(seconds=1)).status == "overdue"
    assert _clock(authority_notified_at=notified, as_of=notified).status == "notified_late"
    on_time = deadline - dt.timedelta(hours=1)
    assert _clock(authority_notified_at=on_time, as_of=on_time - dt.timedelta(minutes=1)).status == "warning"
    assert _clock(authority_notified_at=on_time, as_of=on_time).status == "notified_on_time"
    with pytest.raises(ValueError, match="not known yet"):
        _clock(as_of=aware - dt.timedelta(seconds=1))


def test_incident_closed_only_once_closed_at_passed():
    closed = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    assert not d.incident_closed(None, closed)
    assert not d.incident_closed(closed, closed - dt.timedelta(seconds=1))
    assert d.incident_closed(closed, closed)


def test_last_90_days_hold_90_dates():
    """R1.9: as_of - N < closed <= as_of; exactly 90 dates, not 91."""
    as_of = D("2026-11-26")
    window = [as_of - dt.timedelta(days=k) for k in range(0, 200) if d.in_last_days(as_of - dt.timedelta(days=k),
                                                                                      as_of, 90)]
    assert len(window) == 90
    assert not d.in_last_days(as_of - dt.timedelta(days=90), as_of, 90)
    assert d.in_last_days(as_of - dt.timedelta(days=89), as_of, 90)
    assert not d.in_last_days(as_of + dt.timedelta(days=1), as_of, 90)
    assert not d.in_last_days(None, as_of, 90)


def test_erasure_restricts_only_statutory_and_only_until_retained_until():
    """Section 5: held while a statute obliges keeping it, due from the next day; never otherwise."""
    until = D("2026-12-31")
    assert d.erasure_restricts(True, until, until)
    assert not d.erasure_restricts(True, until, until + dt.timedelta(days=1))
    assert not d.erasure_restricts(False, until, until - dt.timedelta(days=100))


def test_erasure_not_carried_out_after_grace():
    """R3.6: records without statutory duty that existed at completion are due after D + grace."""
    done = D("2026-10-01")
    assert not d.erasure_not_carried_out(False, D("2026-01-01"), done, 7, done + dt.timedelta(days=7))
    assert d.erasure_not_carried_out(False, D("2026-01-01"), done, 7, done + dt.timedelta(days=8))
    assert not d.erasure_not_carried_out(True, D("2026-01-01"), done, 7, done + dt.timedelta(days=30))
    assert not d.erasure_not_carried_out(False, done + dt.timedelta(days=1), done, 7, done + dt.timedelta(days=30))
    assert d.retention_status(D("2027-06-01"), done + dt.timedelta(days=8), False, 30, erasure_due=True) == "due"
    assert d.retention_status(D("2027-06-01"), done + dt.timedelta(days=8), True, 30, erasure_due=True) == "held"


def test_master_data_deletable():
    """R3.5: an active consent, something running, or an open concern keeps the master data."""
    assert d.master_data_deletable([], running=False, active_consent=False, concerned=False)  # no records
    assert d.master_data_deletable(["due", "due"], running=False, active_consent=False, concerned=False)
    assert not d.master_data_deletable(["due"], running=False, active_consent=True, concerned=False)
    assert not d.master_data_deletable(["due", "approaching"], running=False, active_consent=False, concerned=False)
    assert not d.master_data_deletable(["held"], running=False, active_consent=False, concerned=False)
    assert not d.master_data_deletable(["due"], running=True, active_consent=False, concerned=False)
    assert not d.master_data_deletable([], running=False, active_consent=False, concerned=True)


def test_consent_findings_counts_every_finding():
    """R4.4: one consent may have several findings."""
    as_of = D("2026-11-26")
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    both = d.consent_findings("newsletter", "active", "2021-03", None, None, as_of, "2025-01", 30)
    assert both == ("no_confirmation", "outdated_version")
    assert d.consent_findings("newsletter", "active", None, at, None, as_of, "2025-01", 30) == (
        "no_notice_version", "no_confirmation")
    assert d.consent_findings("extended_analytics", "active", "2025-01", None, None, as_of, "2025-01", 30) == ()
    assert d.consent_findings("newsletter", "pending", "2025-01", at, None, as_of, "2025-01", 30) == (
        "stale_pending",)
    recent = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert d.consent_findings("newsletter", "pending", "2025-01", recent, None, as_of, "2025-01", 30) == ()


# --- retention ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("category", "anchor", "until"), [
    ("support_communication", "2025-08-31", "2026-02-28"),
    ("support_communication", "2027-08-31", "2028-02-29"),
    ("contract", "2025-06-30", "2027-06-30"),
    ("billing", "2016-06-01", "2026-12-31"),
    ("billing", "2016-12-31", "2026-12-31"),
    ("billing", "2016-01-01", "2026-12-31"),
    ("contract", "2024-02-29", "2026-02-28"),
    ("support_communication", "2026-11-28", "2027-05-28"),  # a Friday end is not rolled either way
])
def test_retention_end(category, anchor, until):
    assert d.retention_end(category, D(anchor)) == D(until)


def test_retention_unknown_category():
    with pytest.raises(ValueError, match="unknown retention category"):
        d.retention_end("marketing", D("2025-01-01"))


def test_retention_status_edges():
    until = D("2026-12-26")
    assert d.retention_status(until, D("2026-12-27"), False, 30) == "due"
    assert d.retention_status(until, D("2026-12-26"), False, 30) == "approaching"  # not yet due
    assert d.retention_status(until, D("2026-11-26"), False, 30) == "approaching"  # exactly 30 days
    assert d.retention_status(until, D("2026-11-25"), False, 30) == "retained"
    assert d.retention_status(until, D("2027-06-01"), True, 30) == "held"


# --- consent -----------------------------------------------------------------------------------

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _at(hours):
    return T0 + dt.timedelta(hours=hours)


def test_consent_state_lifecycle():
    assert d.consent_state([]) is None
    assert d.consent_state([(_at(0), "requested")]) == "pending"
    assert d.consent_state([(_at(1), "confirmed"), (_at(0), "requested")]) == "active"  # out of order
    regrant = [(_at(0), "requested"), (_at(1), "confirmed"), (_at(5), "withdrawn"), (_at(9), "granted")]
    assert d.consent_state(regrant) == "active"
    assert d.consent_state([(_at(1), "confirmed"), (_at(1), "confirmed"), (_at(2), "withdrawn")]) == "withdrawn"
    assert d.consent_state([(_at(3), "granted"), (_at(3), "withdrawn")]) == "withdrawn"  # tie: safest


# --- properties --------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@given(dates)
def test_due_is_working_day_close_to_raw(received):
    due = d.request_due_date(received)
    raw = d.add_months(received, 1)
    assert d.is_working_day(due)
    assert raw <= due <= raw + dt.timedelta(days=4)


@given(dates, st.integers(min_value=1, max_value=40))
def test_due_is_monotone(received, gap):
    assert d.request_due_date(received) <= d.request_due_date(received + dt.timedelta(days=gap))


@given(dates)
def test_extended_due_is_working_day_after_due(received):
    extended = d.request_extended_due_date(received)
    assert d.is_working_day(extended)
    assert extended >= d.request_due_date(received)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1),
                    timezones=st.sampled_from([ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"),
                                               ZoneInfo("Asia/Kolkata"), dt.UTC])))
def test_breach_deadline_is_exactly_72h(aware_at):
    deadline = d.breach_notification_deadline(aware_at)
    assert deadline.tzinfo == dt.UTC
    assert deadline - aware_at.astimezone(dt.UTC) == dt.timedelta(hours=72)


@given(dates, st.integers(min_value=-120, max_value=120))
def test_add_months_clamps(day, months):
    result = d.add_months(day, months)
    assert result.day <= day.day
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months


@pytest.mark.parametrize(("risk", "informed", "exemption", "expected"), [
    ("high", None, None, "outstanding"),
    ("high", None, "a", "exempt"),
    ("high", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), None, "informed"),
    ("risk", None, None, "not_required"),
    ("none", None, None, "not_required"),
    (None, None, None, "to_assess"),
    ("unassessed", None, None, "to_assess"),
])
def test_art34_status(risk, informed, exemption, expected):
    assert d.art34_status(risk, informed, exemption, dt.datetime(2026, 6, 1, tzinfo=dt.UTC)) == expected


def test_art34_status_looks_back():
    """R2.4a: an information or a dated exemption counts only from its timestamp."""
    informed = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    before, after = informed - dt.timedelta(hours=1), informed + dt.timedelta(hours=1)
    assert d.art34_status("high", informed, None, before) == "outstanding"
    assert d.art34_status("high", informed, None, after) == "informed"
    assert d.art34_status("high", None, "a", before, exemption_at=informed) == "outstanding"
    assert d.art34_status("high", None, "a", after, exemption_at=informed) == "exempt"
