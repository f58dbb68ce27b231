"""The as-of status macros stored in each snapshot agree with deadlines.py on every edge."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from dashboard import deadlines as d
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot


@pytest.fixture(scope="module")
def con(demo_data_dir):
    return open_snapshot(current_snapshot(demo_data_dir / "snapshots"))


def _one(con, sql, params):
    return con.sql(sql, params=params).fetchall()[0][0]


def test_request_status_twin(con):
    deadline = dt.date(2026, 12, 1)
    for offset, soon in itertools.product(range(-12, 12), (0, 7, 10)):
        as_of = deadline + dt.timedelta(days=offset)
        sql_value = _one(con, "SELECT request_status($d::DATE, $a::DATE, $s)", {"d": deadline, "a": as_of, "s": soon})
        assert sql_value == d.request_status(deadline, as_of, soon), (offset, soon)


def test_open_request_twin(con):
    from dashboard.schema import REQUEST_STATUSES

    received, closed = dt.date(2026, 3, 2), dt.date(2026, 3, 10)
    for status, closed_on in itertools.product(REQUEST_STATUSES, (None, closed)):
        params = {"s": status, "c": closed_on}
        assert _one(con, "SELECT is_open_request($s, $c::DATE)", params) == d.is_open_request(status, closed_on)
        for offset in (-1, 0, 7, 8, 9, 40):  # before receipt, on it, the day before, of and after closing
            as_of = received + dt.timedelta(days=offset)
            sql_value = _one(con, "SELECT request_open_on($s, $r::DATE, $c::DATE, $a::DATE)",
                             {**params, "r": received, "a": as_of})
            assert sql_value == d.request_open_on(status, received, closed_on, as_of), (status, closed_on, offset)
    # R1.8 amended: a duplicate is open until its closing, when one is recorded; without one, for good.
    assert d.request_open_on("duplicate", received, closed, closed - dt.timedelta(days=1))
    assert not d.request_open_on("duplicate", received, closed, closed)
    assert d.request_open_on("duplicate", received, None, received + dt.timedelta(days=900))


def test_record_exists_twin(con):
    created = dt.date(2026, 11, 18)
    for offset in (-13, -1, 0, 1):
        as_of = created + dt.timedelta(days=offset)
        assert _one(con, "SELECT record_exists($c::DATE, $a::DATE)", {"c": created, "a": as_of}) == \
            d.record_exists(created, as_of) == (offset >= 0)


def test_retention_status_twin(con):
    until = dt.date(2026, 12, 26)
    for offset, held, window in itertools.product(range(-95, 5), (False, True), (30, 60, 90)):
        as_of = until + dt.timedelta(days=offset)
        sql_value = _one(con, "SELECT retention_status($u::DATE, $a::DATE, $h, $w)",
                         {"u": until, "a": as_of, "h": held, "w": window})
        assert sql_value == d.retention_status(until, as_of, held, window), (offset, held, window)


def test_breach_clock_twin(con):
    aware = dt.datetime(2026, 3, 27, 12, tzinfo=d.BERLIN)  # DST starts within the 72 h
    deadline = d.breach_notification_deadline(aware)
    minutes = (-3000, -1441, -1440, -1439, -60, -1, 0, 1, 60, 5000)
    for risk, delta, notified in itertools.product(("none", "risk", "high", "unassessed", None), minutes,
                                                   (None, -1, 0, 1)):
        as_of = deadline + dt.timedelta(minutes=delta)
        notified_at = None if notified is None else deadline + dt.timedelta(minutes=notified)
        sql_value = _one(con, "SELECT breach_clock_status($dl::TIMESTAMPTZ, $r, $n::TIMESTAMPTZ, "
                              "$a::TIMESTAMPTZ, 24)", {"dl": deadline, "r": risk, "n": notified_at, "a": as_of})
        expected = d.breach_clock(aware, risk, notified_at, as_of, warning_hours=24).status
        assert sql_value == expected, (risk, delta, notified)


def test_breach_clock_twin_looks_back(con):
    """R2.4a: a notification after the moment looked at does not count yet, in SQL as in Python."""
    aware = dt.datetime(2026, 3, 27, 12, tzinfo=d.BERLIN)
    deadline = d.breach_notification_deadline(aware)
    for notified_h, as_of_h in itertools.product((50, 71, 72, 73, 90), (1, 49, 50, 60, 71, 72, 73, 89, 90, 91)):
        notified_at, as_of = aware + dt.timedelta(hours=notified_h), aware + dt.timedelta(hours=as_of_h)
        sql_value = _one(con, "SELECT breach_clock_status($dl::TIMESTAMPTZ, 'risk', $n::TIMESTAMPTZ, "
                              "$a::TIMESTAMPTZ, 24)", {"dl": deadline, "n": notified_at, "a": as_of})
        assert sql_value == d.breach_clock(aware, "risk", notified_at, as_of).status, (notified_h, as_of_h)


def test_art34_status_twin(con):
    informed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    moments = (informed - dt.timedelta(seconds=1), informed, informed + dt.timedelta(days=1))
    for risk, at, exemption, exempt_at, as_of in itertools.product(
            (None, "unassessed", "none", "risk", "high"), (None, informed), (None, "a", "c"), (None, informed),
            moments):
        sql_value = _one(con, "SELECT art34_status($r, $i::TIMESTAMPTZ, $e, $a::TIMESTAMPTZ, $x::TIMESTAMPTZ)",
                         {"r": risk, "i": at, "e": exemption, "a": as_of, "x": exempt_at})
        expected = d.art34_status(risk, at, exemption, as_of, exemption_at=exempt_at)
        assert sql_value == expected, (risk, at, exemption, exempt_at, as_of)


def test_incident_closed_twin(con):
    closed = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    for closed_at, delta in itertools.product((None, closed), (-1, 0, 1)):
        at = closed + dt.timedelta(seconds=delta)
        assert _one(con, "SELECT incident_closed($c::TIMESTAMPTZ, $a::TIMESTAMPTZ)",
                    {"c": closed_at, "a": at}) == d.incident_closed(closed_at, at), (closed_at, delta)


def test_in_last_days_twin(con):
    as_of = dt.date(2026, 11, 26)
    for offset, days in itertools.product(range(-2, 95), (30, 90)):
        day = as_of - dt.timedelta(days=offset)
        assert _one(con, "SELECT in_last_days($d::DATE, $a::DATE, $n)", {"d": day, "a": as_of, "n": days}) == \
            d.in_last_days(day, as_of, days), (offset, days)


def test_erasure_rule_twins(con):
    until, done = dt.date(2026, 12, 31), dt.date(2026, 10, 1)
    for statutory, offset in itertools.product((False, True), range(-3, 12)):
        as_of = until + dt.timedelta(days=offset)
        assert _one(con, "SELECT erasure_restricts($s, $u::DATE, $a::DATE)", {"s": statutory, "u": until, "a": as_of}) \
            == d.erasure_restricts(statutory, until, as_of), (statutory, offset)
        for created in (done - dt.timedelta(days=5), done, done + dt.timedelta(days=1)):
            as_of = done + dt.timedelta(days=offset)
            sql_value = _one(con, "SELECT erasure_not_carried_out($s, $c::DATE, $d::DATE, 7, $a::DATE)",
                             {"s": statutory, "c": created, "d": done, "a": as_of})
            assert sql_value == d.erasure_not_carried_out(statutory, created, done, 7, as_of), (statutory, offset)


def test_consent_findings_twin(con):
    as_of = dt.date(2026, 11, 26)
    old, recent = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for purpose, state, version, requested, confirmed in itertools.product(
            ("newsletter", "extended_analytics"), ("active", "pending", "withdrawn"), (None, "2021-03", "2025-01"),
            (None, old, recent), (None, recent)):
        sql_value = _one(con, "SELECT consent_findings($p, $s, $v, $r::TIMESTAMPTZ, $c::TIMESTAMPTZ, $a::DATE, "
                              "'2025-01', 30)",
                         {"p": purpose, "s": state, "v": version, "r": requested, "c": confirmed, "a": as_of})
        expected = d.consent_findings(purpose, state, version, requested, confirmed, as_of, "2025-01", 30)
        assert tuple(sql_value) == expected, (purpose, state, version, requested, confirmed)


def test_berlin_date_twin(con):
    """R1.2: the snapshot's Berlin calendar date of a UTC timestamp (received_date, closed_date) is
    the same as deadlines.berlin_date, around midnight and across both DST changes."""
    moments = [dt.datetime(2026, 3, 28, 22, 59, tzinfo=dt.UTC), dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC),
               dt.datetime(2026, 3, 29, 21, 59, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC),
               dt.datetime(2026, 10, 24, 21, 59, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 22, 59, tzinfo=dt.UTC),
               dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)]
    for moment in moments:
        sql_value = _one(con, "SELECT berlin_date($m::TIMESTAMPTZ)", {"m": moment})  # the snapshot's macro
        assert sql_value == d.berlin_date(moment), moment
        day = d.berlin_date(moment)  # and back: the moment that Berlin date begins
        start = _one(con, "SELECT berlin_midnight($d::DATE)", {"d": day})
        assert start == dt.datetime.combine(day, dt.time(), d.BERLIN), day
