"""The as-of status macros stored in each snapshot agree with deadlines.py on every edge."""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import pytest

from dashboard import deadlines as d
from dashboard.snapshot import current_snapshot


@pytest.fixture(scope="module")
def con(demo_data_dir):
    return duckdb.connect(str(current_snapshot(demo_data_dir / "snapshots")), read_only=True)


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

    for status in REQUEST_STATUSES:
        assert _one(con, "SELECT is_open_request($s)", {"s": status}) == d.is_open_request(status)


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


def test_art34_status_twin(con):
    informed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for risk, at, exemption in itertools.product((None, "unassessed", "none", "risk", "high"), (None, informed),
                                                 (None, "a", "c")):
        sql_value = _one(con, "SELECT art34_status($r, $i::TIMESTAMPTZ, $e)", {"r": risk, "i": at, "e": exemption})
        assert sql_value == d.art34_status(risk, at, exemption), (risk, at, exemption)


def test_berlin_date_twin(con):
    """R1.2: the snapshot's Berlin calendar date of a UTC timestamp (received_date, closed_date) is
    the same as deadlines.berlin_date, around midnight and across both DST changes."""
    moments = [dt.datetime(2026, 3, 28, 22, 59, tzinfo=dt.UTC), dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC),
               dt.datetime(2026, 3, 29, 21, 59, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC),
               dt.datetime(2026, 10, 24, 21, 59, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 22, 59, tzinfo=dt.UTC),
               dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)]
    for moment in moments:
        sql_value = _one(con, "SELECT timezone('Europe/Berlin', $m::TIMESTAMPTZ)::DATE", {"m": moment})
        assert sql_value == d.berlin_date(moment), moment
