"""Page queries on a hand-built snapshot; every expected figure is worked out by hand below."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from dashboard import data
from dashboard.snapshot import build_snapshot
from tests.conftest import write_store

AS_OF = dt.date(2026, 11, 26)


def _req(rid, received, status="in_progress", contact="C1", right="access", **extra):
    return {"request_id": rid, "contact_id": contact, "right": right, "channel": "email",
            "received_at": f"{received}T09:00:00Z", "status": status, **extra}


def _ticket(tid, contact, closed):
    """A network ticket opened 2026-01-01; closed at 08:00 UTC on ``closed`` (None: still open)."""
    row = {"ticket_id": tid, "contact_id": contact, "opened_at": "2026-01-01T08:00:00Z", "category": "network",
           "status": "open"}
    return row | {"status": "closed", "closed_at": f"{closed}T08:00:00Z"} if closed else row


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("queries")
    requests = [
        # received 2026-10-20 -> due 2026-11-20: overdue on 2026-11-26 (-6 days).
        _req("Q-overdue", "2026-10-20"),
        # received 2026-10-30 -> due 2026-11-30: 4 days left -> due soon.
        _req("Q-soon", "2026-10-30", contact="C2"),
        # received 2026-11-20 -> due 2026-12-21: 25 days -> on track.
        _req("Q-track", "2026-11-20", contact="C3", right="restriction"),
        # received 2026-10-01, extension told 2026-10-20 (before due 2026-11-02) -> extended to 2027-01-04.
        _req("Q-ext", "2026-10-01", contact="C4", extension_notified_at="2026-10-20T09:00:00Z"),
        _req("Q-unverified", "2026-11-10", status="unverified", contact="C5"),
        # Answered within the last 90 days: one on time (10 days), one late (40 days, due 2026-09-07).
        _req("Q-done", "2026-09-01", status="completed", contact="C6", closed_at="2026-09-11T09:00:00Z"),
        _req("Q-late", "2026-08-05", status="completed", contact="C6", closed_at="2026-09-14T09:00:00Z"),
        # Answered 200 days ago: outside the 90-day window.
        _req("Q-old", "2026-04-01", status="rejected", contact="C6", closed_at="2026-05-01T09:00:00Z"),
    ]
    tickets = [
        # closed 2026-05-20 -> until 2026-11-20: due. Subject C9 has nothing open.
        _ticket("T-due", "C9", closed="2026-05-20"),
        # closed 2026-06-26 -> until 2026-12-26: exactly 30 days left -> approaching.
        _ticket("T-edge", "C9", closed="2026-06-26"),
        # closed 2026-06-27 -> until 2026-12-27: 31 days -> retained.
        _ticket("T-kept", "C9", closed="2026-06-27"),
        # due, but a legal hold on the record.
        _ticket("T-legal", "C9", closed="2026-01-10"),
        # due, but the subject C3 has an open restriction request (Art. 18).
        _ticket("T-restricted", "C3", closed="2026-01-10"),
        # due, hold released before as_of -> due again.
        _ticket("T-released", "C9", closed="2026-01-10"),
        # open ticket: no retention clock yet.
        _ticket("T-open", "C9", closed=None),
    ]
    attachments = [{"attachment_id": "A1", "ticket_id": "T-due", "kind": "log_file", "size_bytes": "1000"},
                   {"attachment_id": "A2", "ticket_id": "T-due", "kind": "configuration", "size_bytes": "24"},
                   {"attachment_id": "A3", "ticket_id": "T-legal", "kind": "log_file", "size_bytes": "5000"}]
    invoices = [
        # 2015 invoice -> until 2025-12-31: due. Tax hold on the second.
        {"invoice_id": "R-due", "contract_id": "V1", "contact_id": "C9", "invoice_date": "2015-03-01",
         "amount_eur": "10.00"},
        {"invoice_id": "R-tax", "contract_id": "V1", "contact_id": "C9", "invoice_date": "2015-03-01",
         "amount_eur": "10.00"},
        {"invoice_id": "R-kept", "contract_id": "V1", "contact_id": "C9", "invoice_date": "2016-12-31",
         "amount_eur": "10.00"},
    ]
    holds = [
        {"hold_id": "H1", "record_type": "ticket", "record_id": "T-legal", "kind": "legal", "reason": "Klage",
         "set_by": "Recht", "set_at": "2026-02-01T08:00:00Z", "review_date": "2027-02-01"},
        {"hold_id": "H2", "record_type": "invoice", "record_id": "R-tax", "kind": "tax", "reason": "Prüfung",
         "set_by": "Buchhaltung", "set_at": "2026-02-01T08:00:00Z"},
        {"hold_id": "H3", "record_type": "ticket", "record_id": "T-released", "kind": "legal", "reason": "alt",
         "set_by": "Recht", "set_at": "2026-02-01T08:00:00Z", "released_at": "2026-03-01T08:00:00Z"},
    ]
    consent = [  # (subject, purpose, action, time)
        # C1 newsletter: requested, confirmed -> active (confirmed).
        ("C1", "newsletter", "requested", "2026-01-01T10:00:00Z"),
        ("C1", "newsletter", "confirmed", "2026-01-01T11:00:00Z"),
        # C2 newsletter: requested only -> pending.
        ("C2", "newsletter", "requested", "2026-01-01T10:00:00Z"),
        # C3 newsletter: confirmed then withdrawn, listed out of order and duplicated -> withdrawn.
        ("C3", "newsletter", "withdrawn", "2026-06-01T10:00:00Z"),
        ("C3", "newsletter", "requested", "2026-01-01T10:00:00Z"),
        ("C3", "newsletter", "confirmed", "2026-01-01T12:00:00Z"),
        ("C3", "newsletter", "confirmed", "2026-01-01T12:00:00Z"),
        # C4 newsletter: withdrawn, then re-granted with confirmation -> active.
        ("C4", "newsletter", "confirmed", "2025-01-01T10:00:00Z"),
        ("C4", "newsletter", "withdrawn", "2025-06-01T10:00:00Z"),
        ("C4", "newsletter", "requested", "2026-02-01T10:00:00Z"),
        ("C4", "newsletter", "confirmed", "2026-02-01T10:30:00Z"),
        # C1 analytics: granted -> active; a future event (after as_of) must not count.
        ("C1", "extended_analytics", "granted", "2026-03-01T10:00:00Z"),
        ("C1", "extended_analytics", "withdrawn", "2026-12-24T10:00:00Z"),
    ]
    events = [{"event_id": f"E{i}", "contact_id": c, "purpose": p, "action": a, "occurred_at": at,
               "notice_version": "2025-01", "channel": "web"} for i, (c, p, a, at) in enumerate(consent)]
    sources = write_store(tmp / "src", {"requests": requests, "tickets": tickets, "attachments": attachments,
                                        "invoices": invoices, "holds": holds, "consent_events": events})
    return duckdb.connect(str(build_snapshot(sources, data_dir=tmp / "data").path), read_only=True)


def test_requests_kpis(con):
    kpi = data.run(con, "requests_kpis", as_of=AS_OF, due_soon_days=7).row(0, named=True)
    assert kpi["open"] == 4  # overdue, soon, track, ext (unverified is hidden)
    assert kpi["overdue"] == 1 and kpi["due_soon"] == 1 and kpi["hidden"] == 1
    assert kpi["answered_90d"] == 2 and kpi["on_time_pct_90d"] == 50.0
    assert kpi["median_days_90d"] == 25.0  # (10 + 40) / 2


NO_FILTER = dict(due_soon_days=7, show_hidden=False, rights=[], statuses=[], assignees=[], channels=[],
                 overdue_only=False, due_within=None, received_from=None, received_to=None, limit=None)


def _queue(con, **overrides):
    return data.run(con, "request_queue", **{**NO_FILTER, "as_of": AS_OF, **overrides})


def test_request_queue_order_and_look_ahead(con):
    queue = _queue(con)
    assert queue["request_id"].to_list() == ["Q-overdue", "Q-soon", "Q-track", "Q-ext"]
    assert queue["days_left"].to_list() == [-6, 4, 25, 39]
    assert queue.filter(queue["request_id"] == "Q-ext")["extension"].item() == "valid"
    assert queue["total_rows"].to_list() == [4] * 4
    with_hidden = _queue(con, show_hidden=True)
    assert "Q-unverified" in with_hidden["request_id"].to_list()
    # Looking ahead to 2026-12-01: Q-soon (due 11-30) is overdue too.
    ahead = data.run(con, "requests_kpis", as_of=dt.date(2026, 12, 1), due_soon_days=7).row(0, named=True)
    assert ahead["overdue"] == 2


def test_retention_summary_and_holds(con):
    summary = {r["category"]: r for r in data.run(con, "retention_summary", as_of=AS_OF,
                                                  window_days=30).iter_rows(named=True)}
    support = summary["support_communication"]
    assert (support["due"], support["approaching"], support["held"]) == (2, 1, 2)  # due: T-due, T-released
    assert support["records"] == 6 and support["bytes_due"] == 1024
    assert support["oldest_due_since"] == dt.date(2026, 7, 10)
    billing = summary["billing"]
    assert (billing["due"], billing["held"], billing["records"]) == (1, 1, 3)


def test_held_records_never_in_due_list(con):
    due = data.run(con, "retention_due_list", as_of=AS_OF, window_days=30, status="due", limit=100)
    assert sorted(due["record_id"].to_list()) == ["R-due", "T-due", "T-released"]
    held = data.run(con, "retention_due_list", as_of=AS_OF, window_days=30, status="held", limit=100)
    reasons = dict(zip(held["record_id"], held["hold_kind"], strict=True))
    assert reasons == {"T-legal": "legal", "T-restricted": "restriction", "R-tax": "tax"}


def test_retention_window_edge(con):
    wide = data.run(con, "retention_summary", as_of=AS_OF, window_days=31)
    assert wide.filter(wide["category"] == "support_communication")["approaching"].item() == 2


def test_consent_summary(con):
    rows = {r["purpose"]: r for r in data.run(con, "consent_summary", as_of=AS_OF).iter_rows(named=True)}
    news = rows["newsletter"]
    assert (news["asked"], news["active"], news["pending"], news["withdrawn"]) == (4, 2, 1, 1)
    assert news["consent_rate_pct"] == 50.0
    analytics = rows["extended_analytics"]
    assert (analytics["asked"], analytics["active"], analytics["withdrawn"]) == (1, 1, 0)


def test_parameters_are_bound_not_formatted(con):
    evil = "due' OR '1'='1"
    rows = data.run(con, "retention_due_list", as_of=AS_OF, window_days=30, status=evil, limit=100)
    assert rows.height == 0


def test_masking_for_roles_without_personal_data(con):
    due = data.run(con, "retention_due_list", as_of=AS_OF, window_days=30, status="due", limit=100)
    assert set(data.mask_personal(due, "management")["contact_id"]) == {data.MASK}
    assert "C9" in data.mask_personal(due, "dpo")["contact_id"].to_list()


def test_looking_back_counts_requests_open_then(con):
    # On 2026-09-05 Q-late (received 08-05, due 09-07, closed 09-14) was open with 2 days left;
    # Q-done (received 09-01, due Thu 10-01, closed 09-11) was open with 26 days left;
    # Q-old was closed in May; everything else arrived later.
    back = _queue(con, as_of=dt.date(2026, 9, 5))
    assert back["request_id"].to_list() == ["Q-late", "Q-done"]
    assert back["days_left"].to_list() == [2, 26]


@pytest.mark.parametrize(("filters", "expected"), [
    (dict(rights=["restriction"]), ["Q-track"]),
    (dict(overdue_only=True), ["Q-overdue"]),
    (dict(due_within=4), ["Q-overdue", "Q-soon"]),
    (dict(received_from=dt.date(2026, 10, 20), received_to=dt.date(2026, 10, 30)), ["Q-overdue", "Q-soon"]),
    (dict(channels=["letter"]), []),
    (dict(statuses=["in_progress"], rights=["access"]), ["Q-overdue", "Q-soon", "Q-ext"]),
    (dict(limit=2), ["Q-overdue", "Q-soon"]),
    (dict(rights=["access' OR 1=1 --"]), []),
])
def test_request_queue_filters(con, filters, expected):
    queue = _queue(con, **filters)
    assert queue["request_id"].to_list() == expected


def test_request_charts_and_detail(con):
    by_right = data.run(con, "requests_by_right", as_of=AS_OF, due_soon_days=7)
    assert sorted(by_right.iter_rows()) == [("access", "due_soon", 1), ("access", "on_track", 1),
                                            ("access", "overdue", 1), ("restriction", "on_track", 1)]
    monthly = data.run(con, "requests_monthly", as_of=AS_OF)
    assert monthly.height == 24 and monthly["month"][0] == dt.date(2024, 12, 1)
    september = monthly.filter(monthly["month"] == dt.date(2026, 9, 1)).row(0, named=True)
    assert (september["received"], september["on_time"], september["late"]) == (1, 1, 1)
    footprint = data.run(con, "subject_footprint", contact_id="C9").row(0, named=True)
    assert (footprint["tickets"], footprint["invoices"], footprint["requests"]) == (6, 3, 0)
    detail = data.run(con, "request_detail", request_id="Q-ext").row(0, named=True)
    assert (detail["raw_due"], detail["due"], detail["extension"]) == (
        dt.date(2026, 11, 1), dt.date(2026, 11, 2), "valid")


def test_csv_bytes_has_every_row_for_excel_and_masks(con):
    path = con.sql("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchall()[0][0]
    payload = data.csv_bytes(path, "request_queue", "dpo", drop=("total_rows",), **{**NO_FILTER, "as_of": AS_OF})
    text = payload.decode("utf-8")
    assert text.startswith("\ufeffrequest_id;right;channel;")
    assert "total_rows" not in text
    assert len(text.strip().splitlines()) == 1 + 4  # header + every open request, not a page
    masked = data.csv_bytes(path, "retention_due_list", "management", as_of=AS_OF, window_days=30, status="due",
                            limit=None).decode("utf-8")
    assert "C9" not in masked and data.MASK in masked
