"""The snapshot's bulk dates equal the scalar rules for every day of 2024-2030.

The snapshot evaluates deadlines.py once per distinct date and joins the results in DuckDB; this
test feeds it one record per calendar day (and random extension dates) and compares every row
with the scalar functions.
"""

from __future__ import annotations

import datetime as dt
import random

from dashboard import deadlines as d
from dashboard.build import build_snapshot
from dashboard.snapshot import connect as open_snapshot
from tests.helpers import write_store

FIRST, LAST = dt.date(2024, 1, 1), dt.date(2030, 12, 31)
DAYS = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def _noon_berlin(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(12), d.BERLIN).isoformat()


def test_every_day_2024_2030(tmp_path):
    rng = random.Random(7)
    requests, tickets, contracts, invoices, incidents = [], [], [], [], []
    for i, day in enumerate(DAYS):
        notified = day + dt.timedelta(days=rng.randint(0, 45)) if rng.random() < 0.5 else None
        requests.append({"request_id": f"Q{i}", "right": "access", "channel": "email",
                         "received_at": _noon_berlin(day), "status": "in_progress",
                         "extension_notified_at": _noon_berlin(notified) if notified else None})
        tickets.append({"ticket_id": f"T{i}", "contact_id": "C1", "opened_at": _noon_berlin(day),
                        "closed_at": _noon_berlin(day), "status": "closed", "category": "other"})
        contracts.append({"contract_id": f"V{i}", "contact_id": "C1", "start_date": "2020-01-01",
                          "end_date": day.isoformat(), "status": "ended"})
        invoices.append({"invoice_id": f"R{i}", "contract_id": f"V{i}", "contact_id": "C1",
                         "invoice_date": day.isoformat(), "amount_eur": "10.00"})
        minute = rng.randint(0, 24 * 60 - 1)
        aware = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), d.BERLIN)
        incidents.append({"incident_id": f"I{i}", "title": "x", "type": "integrity", "status": "confirmed",
                          "detected_at": aware.isoformat(), "aware_at": aware.isoformat(), "risk": "risk"})
    sources = write_store(tmp_path / "src", {"requests": requests, "tickets": tickets, "contracts": contracts,
                                             "invoices": invoices, "incidents": incidents})
    con = open_snapshot(build_snapshot(sources, data_dir=tmp_path / "data").path)

    rows = con.sql("SELECT received_date, extension_notified_date, raw_due, due, extended_due, extension, deadline "
                   "FROM requests").fetchall()
    assert len(rows) == len(DAYS)
    for received, notified, raw, due, extended, extension, deadline in rows:
        expected = d.request_deadline(received, notified)
        assert (raw, due, extended) == (d.add_months(received, 1), d.request_due_date(received),
                                        d.request_extended_due_date(received)), received
        assert (extension, deadline) == (expected.extension, expected.deadline), received

    for record_type, category in (("ticket", "support_communication"), ("contract", "contract"),
                                  ("invoice", "billing")):
        pairs = con.sql("SELECT anchor_date, retained_until FROM retention_records WHERE record_type = $t",
                        params={"t": record_type}).fetchall()
        assert len(pairs) == len(DAYS)
        assert all(until == d.retention_end(category, a) for a, until in pairs), record_type

    breaches = con.sql("SELECT aware_at, notification_deadline FROM incidents").fetchall()
    assert len(breaches) == len(DAYS)
    assert all(deadline == d.breach_notification_deadline(aware) for aware, deadline in breaches)
