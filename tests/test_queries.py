"""Page queries on a hand-built snapshot; every expected figure is worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import data
from dashboard.build import build_snapshot
from dashboard.schema import RIGHTS
from dashboard.snapshot import connect as open_snapshot
from tests.helpers import write_store

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
        # R1.9: closed exactly 90 days before as_of (08-28) is outside "the last 90 days"; 89 days inside.
        _req("Q-90", "2026-08-20", status="completed", contact="C7", closed_at="2026-08-28T09:00:00Z"),
        _req("Q-89", "2026-08-20", status="completed", contact="C7", closed_at="2026-08-29T09:00:00Z"),
        # R3.6: erasure completed on 10-10 (grace 7 days): C30's ticket is still there; of C31 only the
        # master data is left.
        _req("Q-erased", "2026-10-05", status="completed", contact="C30", right="erasure",
             closed_at="2026-10-10T09:00:00Z"),
        _req("Q-erased-master", "2026-10-05", status="completed", contact="C31", right="erasure",
             closed_at="2026-10-10T09:00:00Z"),
        # R1.8 amended: a duplicate closed on 09-05 held C32's ticket only from 09-01 to 09-05 and is no
        # answered request; the duplicate without a closing still holds C33 and counts as hidden.
        _req("Q-dup-closed", "2026-09-01", status="duplicate", contact="C32", right="erasure",
             closed_at="2026-09-05T09:00:00Z"),
        _req("Q-dup-open", "2026-09-01", status="duplicate", contact="C33", right="erasure"),
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
        # R3.5 subjects. C10: one due ticket -> master data deletable.
        _ticket("T-c10", "C10", closed="2026-01-31"),
        # C11: one due, one approaching (until 2026-12-20, 24 days) -> not deletable.
        _ticket("T-c11a", "C11", closed="2026-01-31"), _ticket("T-c11b", "C11", closed="2026-06-20"),
        # C12: due ticket, but a contract still running -> not deletable.
        _ticket("T-c12", "C12", closed="2026-01-31"),
        # C13: one ticket concerned by an open incident (held), one by a closed incident (due).
        _ticket("T-c13", "C13", closed="2026-01-31"), _ticket("T-c13b", "C13", closed="2026-01-31"),
        # C14: closed 2025-08-31 -> until 2026-02-28 (clamped); contract ended 2024-06-30 -> 2026-06-30.
        _ticket("T-c14", "C14", closed="2025-08-31"),
        # C15: due, but an erasure request under statutory retention holds the subject.
        _ticket("T-c15", "C15", closed="2026-01-31"),
        # C1: due, but the subject's access request Q-overdue is still open.
        _ticket("T-c1", "C1", closed="2026-01-31"),
        # C29: due, but an active newsletter consent still needs the e-mail (R3.5).
        _ticket("T-c29", "C29", closed="2026-01-31"),
        # C30: within its period (until 2027-04-01), but the subject's erasure was completed on 10-10 (R3.6).
        _ticket("T-c30", "C30", closed="2026-10-01"),
        # C32, C33: closed 2026-01-31 -> until 2026-07-31: due, unless a request holds the subject.
        _ticket("T-c32", "C32", closed="2026-01-31"), _ticket("T-c33", "C33", closed="2026-01-31"),
    ]
    contracts = [
        {"contract_id": "V-c12", "contact_id": "C12", "start_date": "2020-01-01", "status": "active"},
        {"contract_id": "V-c14", "contact_id": "C14", "start_date": "2020-01-01", "end_date": "2024-06-30",
         "status": "ended"},
    ]
    incidents = [
        {"incident_id": "INC-1", "title": "offen", "type": "confidentiality", "detected_at": "2026-11-01T08:00:00Z",
         "status": "risk_assessed"},
        {"incident_id": "INC-2", "title": "erledigt", "type": "integrity", "detected_at": "2026-03-01T08:00:00Z",
         "status": "closed", "closed_at": "2026-06-01T08:00:00Z"},
    ]
    def breach(iid, aware, risk="risk", notified=None, reason=None, **extra):
        """A confirmed breach detected two hours before awareness (times in UTC)."""
        at = dt.datetime.fromisoformat(aware)
        return {"incident_id": iid, "title": iid, "type": extra.pop("type", "confidentiality"),
                "detected_at": (at - dt.timedelta(hours=2)).isoformat(), "aware_at": at.isoformat(), "risk": risk,
                "authority_notified_at": notified, "delay_reason": reason, "status": "confirmed", **extra}

    # The clock is read at INCIDENT_AS_OF = 2026-11-26 11:00 UTC (12:00 in Berlin).
    incidents += [
        breach("B-open", "2026-11-24T11:00:00+00:00"),  # deadline in exactly 24 h: open, not warning
        breach("B-warning", "2026-11-24T10:00:00+00:00"),  # 23 h left
        breach("B-at-deadline", "2026-11-23T11:00:00+00:00"),  # deadline is now: not yet overdue
        breach("B-overdue", "2026-11-20T08:00:00+00:00", risk="high", type="availability"),  # 75 h late
        breach("B-unassessed", "2026-11-25T11:00:00+00:00", risk=None),  # counts as notifiable
        breach("B-none", "2026-11-25T11:00:00+00:00", risk="none"),
        breach("B-ontime", "2026-06-01T08:00:00+00:00", risk="high", notified="2026-06-03T08:00:00+00:00",
               art34_exemption="a"),  # 48 h
        breach("B-late-reason", "2026-07-01T08:00:00+00:00", risk="high", notified="2026-07-05T08:00:00+00:00",
               reason="Forensik", subjects_informed_at="2026-07-06T08:00:00+00:00"),  # 96 h
        breach("B-late-silent", "2026-08-01T08:00:00+00:00", notified="2026-08-04T20:00:00+00:00",
               type="integrity"),  # 84 h, no reason
        # DOMAIN vector: aware 2025-10-24 10:00 +02:00 -> deadline 2025-10-27 09:00 +01:00 (DST ends);
        # more than 12 months before as_of, so outside the KPI window.
        breach("B-dst", "2025-10-24T08:00:00+00:00", notified="2025-10-26T08:00:00+00:00"),
        {"incident_id": "B-not-pd", "title": "kein Personenbezug", "type": "availability",
         "detected_at": "2026-11-01T08:00:00Z", "aware_at": "2026-11-01T09:00:00Z", "status": "not_personal_data"},
        # R2.4b: "closed" without a closing time: rejected with its reason.
        breach("B-closed-no-date", "2026-05-01T08:00:00+00:00", notified="2026-05-02T08:00:00+00:00",
               status="closed"),
    ]
    incident_records = [
        {"link_id": "L1", "incident_id": "INC-1", "record_type": "ticket", "record_id": "T-c13"},
        {"link_id": "L2", "incident_id": "INC-2", "record_type": "ticket", "record_id": "T-c13b"},
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
        # DOMAIN vector: dated 2016-06-01, N = 10 -> retained until 2026-12-31 (35 days left).
        {"invoice_id": "R-2016", "contract_id": "V1", "contact_id": "C16", "invoice_date": "2016-06-01",
         "amount_eur": "10.00"},
        # C6's long-due invoice: held while the subject's request Q-done was open (09-01 to 09-11), R3.3.
        {"invoice_id": "R-c6", "contract_id": "V1", "contact_id": "C6", "invoice_date": "2014-05-01",
         "amount_eur": "10.00"},
        # C30's invoice: statutory duty, so the completed erasure does not make it due (R3.6); the erasure
        # request alone restricts it until 2034-12-31, no hold row needed (section 5): held, reviewed 2035-01-01.
        {"invoice_id": "R-c30", "contract_id": "V1", "contact_id": "C30", "invoice_date": "2024-05-01",
         "amount_eur": "10.00"},
        # C15's invoices under the erasure hold: one still in its period (held), one past it (due, first).
        {"invoice_id": "R-c15-kept", "contract_id": "V1", "contact_id": "C15", "invoice_date": "2020-05-01",
         "amount_eur": "10.00"},
        {"invoice_id": "R-c15-ended", "contract_id": "V1", "contact_id": "C15", "invoice_date": "2014-05-01",
         "amount_eur": "10.00"},
        # R3.4 amended: dated 2026-11-18, retained until 2036-12-31: counted on AS_OF, not on 2026-11-05.
        {"invoice_id": "R-new", "contract_id": "V1", "contact_id": "C9", "invoice_date": "2026-11-18",
         "amount_eur": "10.00"},
    ]
    holds = [
        {"hold_id": "H1", "record_type": "ticket", "record_id": "T-legal", "kind": "legal", "reason": "Klage",
         "set_by": "Recht", "set_at": "2026-02-01T08:00:00Z", "review_date": "2027-02-01"},
        {"hold_id": "H2", "record_type": "invoice", "record_id": "R-tax", "kind": "tax", "reason": "Prüfung",
         "set_by": "Buchhaltung", "set_at": "2026-02-01T08:00:00Z"},
        {"hold_id": "H3", "record_type": "ticket", "record_id": "T-released", "kind": "legal", "reason": "alt",
         "set_by": "Recht", "set_at": "2026-02-01T08:00:00Z", "released_at": "2026-03-01T08:00:00Z"},
        {"hold_id": "H4", "record_type": "subject", "record_id": "C15", "kind": "erasure_statutory",
         "reason": "erasure requested, statutory retention", "set_by": "DSB", "set_at": "2026-03-01T08:00:00Z",
         "review_date": "2027-01-01"},
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
        # R4.4 findings. C20 newsletter: granted without double opt-in -> active, no confirmation.
        ("C20", "newsletter", "granted", "2026-05-01T10:00:00Z"),
        # C21 analytics: no notice version -> no proof; C22: given under the outdated 2023-05 notice.
        ("C21", "extended_analytics", "granted", "2026-05-01T10:00:00Z", None),
        ("C22", "extended_analytics", "granted", "2024-05-01T10:00:00Z", "2023-05"),
        # C23 pending 16 days (fine); C25 pending 31 days (purge); C26 exactly 30 days (fine).
        ("C23", "newsletter", "requested", "2026-11-10T10:00:00Z"),
        ("C25", "newsletter", "requested", "2026-10-26T10:00:00Z"),
        ("C26", "newsletter", "requested", "2026-10-27T10:00:00Z"),
        # C24 analytics: withdrawn 6 days before as_of (a withdrawal of the last 30 days).
        ("C24", "extended_analytics", "granted", "2026-01-01T10:00:00Z"),
        ("C24", "extended_analytics", "withdrawn", "2026-11-20T10:00:00Z"),
        # C27: re-granted after a withdrawal without a notice version: no notice version (R4.4), although
        # the first cycle recorded one.
        ("C27", "extended_analytics", "granted", "2025-01-01T10:00:00Z", "2025-01"),
        ("C27", "extended_analytics", "withdrawn", "2025-06-01T10:00:00Z", "2025-01"),
        ("C27", "extended_analytics", "granted", "2026-02-01T10:00:00Z", None),
        # C28: newsletter without double opt-in under the outdated 2023-05 notice: two findings.
        ("C28", "newsletter", "granted", "2024-05-01T10:00:00Z", "2023-05"),
        # C29: active newsletter consent (keeps C29's master data).
        ("C29", "newsletter", "requested", "2026-01-01T10:00:00Z"),
        ("C29", "newsletter", "confirmed", "2026-01-01T11:00:00Z"),
    ]
    events = [{"event_id": f"E{i}", "contact_id": c, "purpose": p, "action": a, "occurred_at": at,
               "notice_version": (rest + ["2025-01"])[0], "channel": "web"}
              for i, (c, p, a, at, *rest) in enumerate(consent)]
    subjects = {f"C{n}" for n in range(1, 34)}
    contacts = [{"contact_id": c, "first_name": "Erika", "last_name": "Muster", "email": f"{c.lower()}@beispiel.de",
                 "created_at": "2024-01-01T00:00:00Z"} for c in sorted(subjects)]
    sources = write_store(tmp / "src", {"contacts": contacts, "requests": requests, "tickets": tickets,
                                        "attachments": attachments, "invoices": invoices, "holds": holds,
                                        "consent_events": events, "contracts": contracts, "incidents": incidents,
                                        "incident_records": incident_records})
    return open_snapshot(build_snapshot(sources, data_dir=tmp / "data").path)


def test_requests_kpis(con):
    kpi = data.run(con, "requests_kpis", as_of=AS_OF, due_soon_days=7).row(0, named=True)
    assert kpi["open"] == 4  # overdue, soon, track, ext (unverified is hidden)
    # hidden: Q-unverified and Q-dup-open; not Q-dup-closed (R1.8 amended: closed on 09-05)
    assert kpi["overdue"] == 1 and kpi["due_soon"] == 1 and kpi["hidden"] == 2
    # R1.9: the last 90 days are 08-28 < closed <= 11-26: Q-done, Q-late, Q-89, Q-erased, Q-erased-master;
    # not Q-90 (closed 08-28, exactly 90 days before), nor Q-dup-closed (a duplicate is no answer). On time:
    # all but Q-late.
    assert kpi["answered_90d"] == 5 and kpi["on_time_pct_90d"] == 80.0
    assert kpi["median_days_90d"] == 9.0  # 5, 5, 9, 10, 40


NO_FILTER = dict(due_soon_days=7, show_hidden=False, rights=[], statuses=[], assignees=[], channels=[],
                 overdue_only=False, due_within=None, received_from=None, received_to=None)


def _queue(con, limit=None, **overrides):
    return data.run_page(con, "request_queue", limit, **{**NO_FILTER, "as_of": AS_OF, **overrides}).frame


def test_request_queue_order_and_look_ahead(con):
    queue = _queue(con)
    assert queue["request_id"].to_list() == ["Q-overdue", "Q-soon", "Q-track", "Q-ext"]
    assert queue["days_left"].to_list() == [-6, 4, 25, 39]
    assert queue.filter(queue["request_id"] == "Q-ext")["extension"].item() == "valid"
    # An extended deadline only where an extension was notified.
    extended = dict(zip(queue["request_id"], queue["extended_due"], strict=True))
    assert extended["Q-ext"] is not None and [extended[r] for r in ("Q-overdue", "Q-soon", "Q-track")] == [None] * 3
    page = data.run_page(con, "request_queue", 2, **{**NO_FILTER, "as_of": AS_OF})  # paging: the query layer's
    assert (page.frame["request_id"].to_list(), page.total, page.truncated) == (["Q-overdue", "Q-soon"], 4, True)
    assert data.run_page(con, "request_queue", 10, **{**NO_FILTER, "as_of": AS_OF}).truncated is False
    with_hidden = _queue(con, show_hidden=True)
    assert "Q-unverified" in with_hidden["request_id"].to_list()
    # Looking ahead to 2026-12-01: Q-soon (due 11-30) is overdue too.
    ahead = data.run(con, "requests_kpis", as_of=dt.date(2026, 12, 1), due_soon_days=7).row(0, named=True)
    assert ahead["overdue"] == 2


RETENTION = dict(as_of=AS_OF, window_days=30, categories=[], systems=[])


def _records(con, **overrides):
    params = {**RETENTION, "statuses": [], "until_from": None, "until_to": None, **overrides}
    return data.run(con, "retention_due_list", **params)


def test_retention_summary_and_holds(con):
    summary = {r["category"]: r for r in data.run(con, "retention_summary", **RETENTION).iter_rows(named=True)}
    support = summary["support_communication"]
    # due: T-due, T-released, T-c10, T-c11a, T-c12, T-c13b, T-c14, T-c15 (support communication has no
    # statutory duty, so C15's erasure hold does not hold it: section 5), T-c29, T-c30 (erasure completed
    # but not carried out, R3.6), T-c32 (its duplicate request closed on 09-05, R1.8 amended);
    # approaching: T-edge, T-c11b;
    # held: T-legal, T-restricted, T-c13 (open incident), T-c1 (open request), T-c33 (open duplicate).
    assert (support["due"], support["approaching"], support["held"]) == (11, 2, 5)
    assert support["records"] == 19 and support["bytes_due"] == 1024
    assert support["oldest_due_since"] == dt.date(2026, 2, 28)  # T-c14, clamped from 08-31
    billing = summary["billing"]
    # due: R-due, R-c6, R-c15-ended (its statutory period is over: due from the next day);
    # held: R-tax, R-c15-kept (erasure requested, statutory retention: hold row H4), R-c30 (the same by
    # C30's completed erasure request Q-erased alone, section 5); retained: R-kept, R-2016, R-new.
    assert (billing["due"], billing["approaching"], billing["held"], billing["records"]) == (3, 0, 3, 9)
    contract = summary["contract"]  # V-c14 due; the running V-c12 has no retention clock yet
    assert (contract["due"], contract["records"]) == (1, 1)
    only_billing = data.run(con, "retention_summary", **{**RETENTION, "systems": ["billing"]})
    assert sorted(only_billing["category"]) == ["billing", "contract"]


def test_held_records_never_in_due_list(con):
    due = _records(con, statuses=["due"])
    assert sorted(due["record_id"].to_list()) == [
        "R-c15-ended", "R-c6", "R-due", "T-c10", "T-c11a", "T-c12", "T-c13b", "T-c14", "T-c15", "T-c29", "T-c30",
        "T-c32", "T-due", "T-released", "V-c14"]
    # What an erasure makes due comes first, with its reason.
    assert due.head(2).select("record_id", "finding", "erasure_ref").rows() == [
        ("T-c30", "erasure_not_carried_out", "Q-erased"), ("R-c15-ended", "erasure_statutory_ended", "H4")]
    assert due["finding"].slice(2).null_count() == due.height - 2
    held = _records(con, statuses=["held"])
    reasons = dict(zip(held["record_id"], held["hold_kind"], strict=True))
    assert reasons == {"T-legal": "legal", "T-restricted": "restriction", "R-tax": "tax", "T-c13": "incident",
                       "R-c15-kept": "erasure_statutory", "T-c1": "open_request", "R-c30": "erasure_statutory",
                       "T-c33": "open_request"}
    assert held.filter(held["record_id"] == "T-legal")["hold_review_date"].item() == dt.date(2027, 2, 1)
    # Section 5 without a hold row: restricted by Q-erased until 2034-12-31, due (reviewed) from 2035-01-01.
    restricted = held.filter(held["record_id"] == "R-c30").row(0, named=True)
    assert (restricted["retained_until"], restricted["hold_review_date"]) == (dt.date(2034, 12, 31),
                                                                              dt.date(2035, 1, 1))
    assert (restricted["hold_reason"], restricted["erasure_ref"]) == ("erasure_statutory", "Q-erased")
    assert held["days_overdue"].null_count() == held.height


def test_retention_list_filters(con):
    counted = data.run(con, "retention_due_list_count", **{**RETENTION, "statuses": [], "until_from": None,
                                                        "until_to": None})["total"].item()
    assert _records(con).height == counted == 15 + 2 + 8  # due + approaching + held
    assert data.run(con, "retention_due_list_count", **{**RETENTION, "statuses": ["due"], "categories": ["contract"],
                                                    "until_from": None, "until_to": None})["total"].item() == 1
    clamped = _records(con, until_from=dt.date(2026, 2, 28), until_to=dt.date(2026, 2, 28))
    assert clamped["record_id"].to_list() == ["T-c14"]
    contracts = _records(con, categories=["contract"])
    assert contracts["record_id"].to_list() == ["V-c14"] and contracts["days_overdue"].item() == 149
    assert _records(con, statuses=["approaching"])["record_id"].to_list() == ["T-c11b", "T-edge"]


def test_retention_window_edge(con):
    # T-edge has exactly 30 days left (approaching at 30), T-kept 31 (approaching only at 31).
    for window, expected in ((30, 2), (31, 3)):
        summary = data.run(con, "retention_summary", **{**RETENTION, "window_days": window})
        assert summary.filter(summary["category"] == "support_communication")["approaching"].item() == expected
    # The billing year-end rule: R-2016 (2016-06-01) is kept until 2026-12-31, 35 days: approaching at 60.
    wide = _records(con, window_days=60, categories=["billing"], statuses=["approaching"])
    assert sorted(wide["record_id"]) == ["R-2016", "R-kept"]
    assert set(wide["retained_until"]) == {dt.date(2026, 12, 31)}


def test_deletable_subjects_only_when_every_record_is(con):
    subjects = data.run(con, "deletable_subjects", as_of=AS_OF)
    # Contacts with no records and no active consent first (deletable now): C7 (closed requests only),
    # C8, C17-C19 (nothing), C23, C25, C26 (opt-in pending), C24 (withdrawn), C31 (erasure done). Then by
    # the last record: C6 (its invoice R-c6), C14, C10, C32 (its duplicate request closed, R1.8 amended).
    # Not C15 (R-c15-kept held), C29 (active consent), C1-C5 (open requests), C33 (open duplicate), C9,
    # C11, C16, C30 (records still retained), C12 (running), C13 (held).
    assert subjects["contact_id"].to_list() == [
        "C17", "C18", "C19", "C23", "C24", "C25", "C26", "C31", "C7", "C8", "C6", "C14", "C10", "C32"]
    assert subjects["last_retained_until"].to_list()[-4:] == [
        dt.date(2024, 12, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 31), dt.date(2026, 7, 31)]
    assert subjects["records"].to_list()[-4:] == [1, 2, 1, 1]
    # One day before C14's last record runs out, C14 is not deletable yet.
    assert "C14" not in data.run(con, "deletable_subjects", as_of=dt.date(2026, 6, 30))["contact_id"]


def test_retention_forecast_and_worklists(con):
    forecast = data.run(con, "retention_forecast", as_of=AS_OF, categories=[], systems=[])
    assert forecast.rows() == [(dt.date(2026, 12, 1), "support_communication", 3),
                               (dt.date(2027, 1, 1), "billing", 2)]
    # the chart follows the page's category and system filters
    assert data.run(con, "retention_forecast", as_of=AS_OF, categories=["billing"], systems=[]).rows() == [
        (dt.date(2027, 1, 1), "billing", 2)]
    assert data.run(con, "retention_forecast", as_of=AS_OF, categories=[], systems=["helpdesk"]).rows() == [
        (dt.date(2026, 12, 1), "support_communication", 3)]
    helpdesk = data.run(con, "deletion_worklist", as_of=AS_OF, system="helpdesk")
    assert sorted(helpdesk["record_id"]) == ["T-c10", "T-c11a", "T-c12", "T-c13b", "T-c14", "T-c15", "T-c29",
                                             "T-c30", "T-c32", "T-due", "T-released"]
    assert helpdesk.row(0, named=True)["record_id"] == "T-c30"  # the erasure not carried out comes first
    assert "contact_id" not in helpdesk.columns
    billing = data.run(con, "deletion_worklist", as_of=AS_OF, system="billing")
    assert sorted(billing["record_id"]) == ["R-c15-ended", "R-c6", "R-due", "V-c14"]
    assert billing.row(0, named=True)["finding"] == "erasure_statutory_ended"


def test_consent_summary(con):
    rows = {r["purpose"]: r for r in data.run(con, "consent_summary", as_of=AS_OF).iter_rows(named=True)}
    news = rows["newsletter"]
    # active: C1 (confirmed after request), C4 (re-granted after withdrawal), C20, C28, C29; pending: C2, C23,
    # C25, C26; withdrawn: C3 (events out of order and duplicated).
    assert (news["asked"], news["active"], news["pending"], news["withdrawn"]) == (10, 5, 4, 1)
    assert news["consent_rate_pct"] == 50.0
    # Requests in the current cycles: C1, C2, C4, C23, C25, C26, C29; confirmed: C1, C4, C29.
    assert (news["doi_requested"], news["doi_confirmed"], news["doi_rate_pct"]) == (7, 3, 42.9)
    assert news["withdrawals_30d"] == 0
    analytics = rows["extended_analytics"]
    # C1's withdrawal on 12-24 is in the future; C27 re-granted.
    assert (analytics["asked"], analytics["active"], analytics["withdrawn"]) == (5, 4, 1)
    # C24 withdrew on 11-20; 30 days before (10-27) C1, C21, C22, C24, C27 were active.
    assert (analytics["withdrawals_30d"], analytics["active_30d_ago"], analytics["withdrawal_rate_pct"]) == (1, 5, 20.0)
    assert analytics["doi_rate_pct"] is None


FINDINGS = dict(as_of=AS_OF, current_version="2025-01", pending_days=30)


def test_consent_findings(con):
    counts = {(r[0], r[1]): r[2] for r in data.run(con, "consent_finding_counts", **FINDINGS).iter_rows()}
    # R4.4: C28 (no DOI, outdated notice) counts under both findings; C27's re-grant has no notice version
    # although its first cycle had one. "any" counts each consent with a finding once.
    assert counts == {("newsletter", "no_confirmation"): 2, ("newsletter", "outdated_version"): 1,
                      ("newsletter", "stale_pending"): 2, ("newsletter", "any"): 4,
                      ("extended_analytics", "no_notice_version"): 2,
                      ("extended_analytics", "outdated_version"): 1, ("extended_analytics", "any"): 3}

    def listed(finding):
        return data.run(con, "consent_findings", **FINDINGS, finding=finding, purposes=[])

    assert listed("stale_pending")["contact_id"].to_list() == ["C2", "C25"]
    assert listed("no_confirmation")["contact_id"].to_list() == ["C28", "C20"]
    assert listed("no_notice_version")["contact_id"].to_list() == ["C27", "C21"]  # oldest consent first
    outdated = listed("outdated_version").sort("contact_id").row(0, named=True)
    assert (outdated["contact_id"], outdated["notice_version"], outdated["channel"]) == ("C22", "2023-05", "web")
    assert listed("outdated_version")["contact_id"].sort().to_list() == ["C22", "C28"]
    assert data.run(con, "consent_findings", **FINDINGS, finding="stale_pending",
                    purposes=["extended_analytics"]).height == 0


def test_consent_monthly(con):
    monthly = data.run(con, "consent_monthly", as_of=AS_OF, channels=[])
    news = {r["month"]: r for r in monthly.filter(monthly["purpose"] == "newsletter").iter_rows(named=True)}
    assert len(news) == 24 and min(news) == dt.date(2024, 12, 1) and max(news) == dt.date(2026, 11, 1)
    assert (news[dt.date(2026, 11, 1)]["asked"], news[dt.date(2026, 11, 1)]["active"]) == (10, 5)
    june = news[dt.date(2026, 6, 1)]  # C3 withdrew; at the end of May C1, C3, C4, C20, C28, C29 were active
    assert (june["asked"], june["active"], june["withdrawals"], june["withdrawal_rate_pct"]) == (7, 5, 1, 16.67)
    january = news[dt.date(2026, 1, 1)]  # requests of C1, C2, C3, C29; C1, C3 and C29 confirmed next
    assert (january["grants"], january["doi_rate_pct"]) == (3, 75.0)
    assert data.run(con, "consent_monthly", as_of=AS_OF, channels=["paper"]).height == 0


INCIDENT_AS_OF = dt.datetime(2026, 11, 26, 11, 0, tzinfo=dt.UTC)


def _register(con, **overrides):
    params = dict(as_of=INCIDENT_AS_OF, warning_hours=24, clocks=[], window_months=None) | overrides
    return {r["incident_id"]: r for r in data.run(con, "incident_register", **params).iter_rows(named=True)}


def test_incident_clocks(con):
    reg = _register(con)
    clocks = {k: v["clock"] for k, v in reg.items() if v["clock"]}
    assert clocks == {"B-open": "open", "B-warning": "warning", "B-at-deadline": "warning",
                      "B-overdue": "overdue", "B-unassessed": "open", "B-none": "not_required",
                      "B-ontime": "notified_on_time", "B-late-reason": "notified_late",
                      "B-late-silent": "notified_late", "B-dst": "notified_on_time"}
    assert (reg["B-open"]["hours_left"], reg["B-warning"]["hours_left"], reg["B-at-deadline"]["hours_left"]) == (
        24.0, 23.0, 0.0)
    assert (reg["B-overdue"]["hours_late"], reg["B-late-reason"]["hours_late"], reg["B-late-silent"]["hours_late"]) == (
        75.0, 24.0, 12.0)
    assert reg["B-unassessed"]["notification_required"] and not reg["B-none"]["notification_required"]
    assert {k: reg[k]["art34"] for k in ("B-overdue", "B-ontime", "B-late-reason", "B-unassessed", "B-open")} == {
        "B-overdue": "outstanding", "B-ontime": "exempt", "B-late-reason": "informed", "B-unassessed": "to_assess",
        "B-open": "not_required"}
    assert reg["B-not-pd"]["clock"] is None and "INC-1" in reg
    # Needing action first: overdue, then warnings by deadline, then open ones.
    assert list(reg)[:5] == ["B-overdue", "B-at-deadline", "B-warning", "B-open", "B-unassessed"]
    # DST: the deadline is 72 h later in UTC, 09:00 +01:00 on the wall clock.
    assert reg["B-dst"]["notification_deadline"] == dt.datetime(2025, 10, 27, 8, 0, tzinfo=dt.UTC)
    # One second later the at-deadline breach is overdue.
    later = _register(con, as_of=INCIDENT_AS_OF + dt.timedelta(seconds=1))
    assert later["B-at-deadline"]["clock"] == "overdue"
    assert list(_register(con, clocks=["warning"])) == ["B-at-deadline", "B-warning"]


def test_incident_kpis_and_quarters(con):
    kpi = data.run(con, "incident_kpis", as_of=INCIDENT_AS_OF, warning_hours=24).row(0, named=True)
    # Last 12 months, clock run out or stopped: on time B-ontime; late B-late-*; overdue B-overdue.
    assert (kpi["decided"], kpi["on_time"], kpi["on_time_pct"]) == (4, 1, 25.0)
    assert (kpi["median_hours_to_notify"], kpi["p95_hours_to_notify"]) == (84.0, 94.8)  # of 48, 84, 96
    assert kpi["median_hours_to_aware"] == 2.0 and kpi["late_without_reason"] == 1
    counts = data.run(con, "incident_clock_counts", as_of=INCIDENT_AS_OF, warning_hours=24)
    assert dict(counts.select("clock", "incidents").iter_rows())["warning"] == 2
    quarters = data.run(con, "incident_quarters", as_of=INCIDENT_AS_OF)
    by = {(q, ty): n for q, ty, n in quarters.iter_rows()}
    assert by[(dt.date(2026, 10, 1), "confidentiality")] == 5  # open, warning, at-deadline, unassessed, none
    assert by[(dt.date(2026, 10, 1), "availability")] == 1 and by[(dt.date(2026, 7, 1), "integrity")] == 1
    assert by[(dt.date(2025, 10, 1), "confidentiality")] == 1  # B-dst


def test_parameters_are_bound_not_formatted(con):
    evil = "due' OR '1'='1"
    assert _records(con, statuses=[evil]).height == 0
    assert data.run(con, "deletion_worklist", as_of=AS_OF, system=evil).height == 0


def test_masking_for_roles_without_personal_data(con):
    due = _records(con, statuses=["due"])
    assert "contact_id" not in data.mask_personal(due, "management").columns  # left out, not placeholders
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


MONTHLY_NO_FILTER = {k: NO_FILTER[k] for k in ("rights", "channels", "assignees", "received_from", "received_to")}


@pytest.mark.parametrize("filters", [
    {}, dict(rights=["access"]), dict(overdue_only=True), dict(show_hidden=True), dict(statuses=["in_progress"]),
    dict(channels=["email"], due_within=30),
    dict(received_from=dt.date(2026, 10, 1), received_to=dt.date(2026, 10, 31)),
])
def test_the_chart_by_right_counts_the_queue_its_filters_leave(con, filters):
    """The bar chart above the queue follows the queue's filters, count for count."""
    params = {**NO_FILTER, "as_of": AS_OF, **filters}
    queue = _queue(con, **filters)
    expected = queue.group_by("right", "clock").len("requests").sort("right", "clock")
    by_right = data.run(con, "requests_by_right", **params).sort("right", "clock")
    assert by_right.rows() == expected.rows()


def test_the_monthly_chart_follows_the_filters_of_a_requests_own_facts(con):
    every = data.run(con, "requests_monthly", as_of=AS_OF, **MONTHLY_NO_FILTER)
    access = data.run(con, "requests_monthly", as_of=AS_OF, **{**MONTHLY_NO_FILTER, "rights": ["access"]})
    others = data.run(con, "requests_monthly", as_of=AS_OF, **{**MONTHLY_NO_FILTER, "rights": [
        r for r in RIGHTS if r != "access"]})
    assert access["received"].sum() < every["received"].sum()
    for column in ("received", "on_time", "late"):
        assert (access[column] + others[column]).to_list() == every[column].to_list()


def test_request_charts_and_detail(con):
    by_right = data.run(con, "requests_by_right", **{**NO_FILTER, "as_of": AS_OF})
    assert sorted(by_right.iter_rows()) == [("access", "due_soon", 1), ("access", "on_track", 1),
                                            ("access", "overdue", 1), ("restriction", "on_track", 1)]
    monthly = data.run(con, "requests_monthly", as_of=AS_OF, **MONTHLY_NO_FILTER)
    assert monthly.height == 24 and monthly["month"][0] == dt.date(2024, 12, 1)
    september = monthly.filter(monthly["month"] == dt.date(2026, 9, 1)).row(0, named=True)
    # received: Q-done and both duplicates (they arrived); answered: Q-done on time, Q-late late; the closed
    # duplicate Q-dup-closed is no answer (R1.8 amended).
    assert (september["received"], september["on_time"], september["late"]) == (3, 1, 1)
    footprint = data.run(con, "subject_footprint", contact_id="C9").row(0, named=True)
    assert (footprint["tickets"], footprint["invoices"], footprint["requests"]) == (6, 4, 0)
    detail = data.run(con, "request_detail", request_id="Q-ext", as_of=AS_OF, due_soon_days=7).row(0, named=True)
    assert (detail["raw_due"], detail["due"], detail["extension"]) == (
        dt.date(2026, 11, 1), dt.date(2026, 11, 2), "valid")
    # the clock of the detail is the queue's, on the page's date (the detail says "überfällig seit N Tagen")
    queue = {r["request_id"]: r for r in _queue(con, 50).iter_rows(named=True)}
    assert (detail["days_left"], detail["clock"]) == (queue["Q-ext"]["days_left"], queue["Q-ext"]["clock"])


# --- DOMAIN.md R1.9, R2.4a, R2.4b, R3.3, R3.6: figures as they stood at the date looked at ---------------


def test_request_holds_only_while_open(con):
    """R3.3: C6's requests Q-late (08-05 to 09-14) and Q-done (09-01 to 09-11) held C6's long-due invoice
    while one of them was open, not before or after."""
    def status(day):
        rows = _records(con, as_of=day, statuses=["due", "held"], categories=["billing"])
        return rows.filter(rows["record_id"] == "R-c6").select("status", "hold_kind").row(0)

    assert status(dt.date(2026, 8, 4)) == ("due", None)
    assert status(dt.date(2026, 8, 5)) == ("held", "open_request")
    assert status(dt.date(2026, 9, 13)) == ("held", "open_request")
    assert status(dt.date(2026, 9, 14)) == ("due", None)  # Q-late closed that day
    assert status(AS_OF) == ("due", None)


def test_a_closed_duplicate_holds_only_until_its_closing(con):
    """R1.8 amended, R3.3: Q-dup-closed (09-01 to 09-05) held C32's due ticket only in those days, and is
    hidden-open only then; Q-dup-open (no closing) still holds C33's."""
    def status(day, record):
        rows = _records(con, as_of=day, statuses=["due", "held"], categories=["support_communication"])
        return rows.filter(rows["record_id"] == record)["status"].item()

    assert [status(dt.date(2026, 9, day), "T-c32") for day in (1, 4, 5)] == ["held", "held", "due"]
    assert status(AS_OF, "T-c32") == "due" and status(AS_OF, "T-c33") == "held"
    hidden = data.run(con, "requests_kpis", as_of=dt.date(2026, 9, 4), due_soon_days=7)["hidden"].item()
    assert hidden == 2  # both duplicates on 09-04 (Q-unverified was received only on 11-10)


def test_a_look_back_counts_only_records_in_being(con):
    """R3.4 amended: R-new (invoice of 2026-11-18) is retained on AS_OF, and not there at all on 11-05."""
    def billing(day):
        rows = data.run(con, "retention_summary", **{**RETENTION, "as_of": day, "categories": ["billing"]})
        return rows["records"].item()

    assert billing(AS_OF) - billing(dt.date(2026, 11, 5)) == 1  # R-new; every other invoice is older
    assert billing(dt.date(2026, 11, 17)) == billing(dt.date(2026, 11, 18)) - 1


def test_incident_holds_only_until_closed(con):
    """R3.3: INC-2 (03-01 to 06-01) held T-c13b while it was open; INC-1 (detected 11-01) holds T-c13
    since then."""
    def held(day):
        return set(_records(con, as_of=day, statuses=["held"], categories=["support_communication"])["record_id"])

    assert "T-c13b" in held(dt.date(2026, 5, 31)) and "T-c13" not in held(dt.date(2026, 5, 31))
    assert "T-c13b" not in held(dt.date(2026, 6, 1))
    assert "T-c13" in held(AS_OF) and "T-c13b" not in held(AS_OF)


def test_breach_clocks_as_they_stood(con):
    """R2.4a: B-late-silent (aware 08-01 08:00 UTC, deadline 08-04 08:00, notified 08-04 20:00) was open,
    then overdue, and only notified (late) from its notification on; the register shows no
    notification before it happened."""
    def clock(at):
        reg = _register(con, as_of=at)["B-late-silent"]
        return reg["clock"], reg["authority_notified_at"]

    assert clock(dt.datetime(2026, 8, 2, 8, tzinfo=dt.UTC)) == ("open", None)
    assert clock(dt.datetime(2026, 8, 3, 10, tzinfo=dt.UTC)) == ("warning", None)
    assert clock(dt.datetime(2026, 8, 4, 19, 59, tzinfo=dt.UTC)) == ("overdue", None)
    notified = dt.datetime(2026, 8, 4, 20, tzinfo=dt.UTC)
    assert clock(notified) == ("notified_late", notified)
    # Art. 34: B-late-reason's subjects were informed on 07-06; before that it was outstanding.
    assert _register(con, as_of=dt.datetime(2026, 7, 5, 12, tzinfo=dt.UTC))["B-late-reason"]["art34"] == "outstanding"
    assert _register(con, as_of=dt.datetime(2026, 7, 7, tzinfo=dt.UTC))["B-late-reason"]["art34"] == "informed"
    # Counted at 08-04 18:00, B-late-silent is overdue (not yet notified late): the KPI history's view.
    at = dt.datetime(2026, 8, 4, 18, tzinfo=dt.UTC)
    clocks = dict(data.run(con, "incident_clock_counts", as_of=at, warning_hours=24).select("clock", "incidents")
                  .iter_rows())
    assert clocks == {"notified_on_time": 2, "notified_late": 1, "overdue": 1}  # B-ontime, B-dst; B-late-reason
    kpi = data.run(con, "incident_kpis", as_of=at, warning_hours=24).row(0, named=True)
    assert (kpi["decided"], kpi["on_time"]) == (4, 2)


def test_closed_without_closed_at_is_rejected(con):
    """R2.4b: one definition of closed: a closed record without its closing time never enters."""
    rejected = con.sql("SELECT record_key, reason FROM rejected_rows WHERE table_name = 'incidents'").fetchall()
    assert rejected == [("B-closed-no-date", "closed_at: missing for status closed")]
    assert con.sql("SELECT count(*) FROM incidents WHERE incident_id = 'B-closed-no-date'").fetchall() == [(0,)]


def test_erasure_not_carried_out(con):
    """R3.6: Q-erased was completed on 10-10; from 10-18 (grace 7 days) T-c30 is a finding, not R-c30
    (billing: statutory duty). Of C31 only the master data is left, which R3.5 no longer keeps."""
    def findings(day, request_id=None):
        rows = data.run(con, "erasure_findings", as_of=day, request_id=request_id)
        return sorted((r["request_id"], r["record_type"], r["record_id"]) for r in rows.iter_rows(named=True))

    assert findings(dt.date(2026, 10, 17)) == []
    assert findings(dt.date(2026, 10, 18)) == findings(AS_OF) == [
        ("Q-erased", "ticket", "T-c30"), ("Q-erased-master", "contact", None)]
    assert findings(AS_OF, "Q-erased") == [("Q-erased", "ticket", "T-c30")]
    # Before the grace ran out, T-c30 was simply retained.
    assert "T-c30" not in set(_records(con, as_of=dt.date(2026, 10, 17))["record_id"])


def test_every_query_is_used_and_every_used_query_exists():
    """A query name in code must name a file in queries/, and every file must be used."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = {p.stem for p in (root / "queries").glob("*.sql")}
    code = "\n".join(p.read_text(encoding="utf-8") for folder in ("dashboard", "bench")
                     for p in (root / folder).rglob("*.py"))
    call = r"""(?:query|query_page|run|run_page|list_export|sql)\(\s*(?:con,\s*|cur,\s*)?"([a-z0-9_]+)\""""
    called = set(re.findall(call, code)) | set(re.findall(r'"query":\s*"([a-z0-9_]+)"', code))
    from dashboard.access import LIST_QUERIES
    from dashboard.exports import SUBJECT_CATEGORIES

    called |= set(LIST_QUERIES) | {f"subject_{c}" for c in SUBJECT_CATEGORIES}  # names built in code
    assert called - files == set(), "used but missing"
    named = set(re.findall(r'"([a-z0-9_]+)"', code)) | called
    counters = {f for f in files if f.endswith("_count") and f.removesuffix("_count") in files}  # run_page's
    assert files - named - counters == set(), "files no code uses"


def test_bound_params_ignore_comments_and_strings(tmp_path, monkeypatch):
    from dashboard import queries

    (tmp_path / "q.sql").write_text("-- uses $not_this\nSELECT '$nor_this' || $real AS x, 'it''s $x' AS y",
                                    encoding="utf-8")
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path)
    queries.sql.cache_clear()
    try:
        assert data.bound_params("q", {"real": 1, "not_this": 2, "nor_this": 3, "x": 4}) == {"real": 1}
    finally:
        queries.sql.cache_clear()


def test_subject_lookup_folds_umlauts_as_german_writes_them(tmp_path):
    """"Huebel" finds Hübel and "Strauss" finds Strauß; an e-mail with ö is found typed with oe."""
    contact = {"created_at": "2025-01-01T00:00:00Z"}
    sources = write_store(tmp_path / "src", {"contacts": [
        {**contact, "contact_id": "1", "first_name": "Jörg", "last_name": "Hübel", "email": "j.huebel@example.org"},
        {**contact, "contact_id": "2", "first_name": "Anna", "last_name": "Strauß", "email": "anna@straußmail.example"},
        {**contact, "contact_id": "3", "first_name": "Max", "last_name": "Muster", "email": "max@example.org"}]})
    con = open_snapshot(build_snapshot(sources, data_dir=tmp_path).path)
    try:
        def found(term: str) -> list[str]:
            return data.run(con, "subject_search", term=term)["contact_id"].to_list()

        assert found("Huebel") == ["1"] and found("hübel") == ["1"] and found("Joerg Hue") == ["1"]
        assert found("Strauss") == ["2"] and found("strauss") == ["2"] and found("STRAUSSMAIL") == ["2"]
        assert found("Müster") == [] and found("Muster") == ["3"]
    finally:
        con.close()
