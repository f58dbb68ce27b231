"""Rows that show each look-back and erasure rule on the pages, each with a contact of its own."""

from __future__ import annotations

import datetime as dt

from dashboard.deadlines import BERLIN, UTC
from dashboard.demo.common import STAFF


def situations(g) -> dict[str, list[dict]]:
    """Rows that show each look-back and erasure rule on the pages (DOMAIN.md R3.3, R3.6, R4.4, section 5).

    Each situation has a contact of its own (C900000NN), outside the random bulk.

    - C90000011 asked for erasure; billing is under statutory retention, so a hold restricts it:
      an invoice still in its period is held, one whose period ended is due first; the old
      tickets (no statutory duty) are simply due and the contract retained, neither held.
    - C90000012 had an access request open from 60 to 40 days ago: it held the subject's
      long-expired invoice then (a look back shows it held), not now.
    - C90000013's erasure request was completed 30 days ago, yet the helpdesk still has the
      tickets and billing the ended contract: "erasure not carried out".
    - C90000014 consented again after a withdrawal without recording a notice version: no
      notice version, whatever the first consent recorded.
    - C90000015 is on the newsletter without double opt-in under an outdated notice version:
      two findings on one consent.
    """
    as_of = g.as_of

    def ts(day: dt.date, hour: int = 10) -> str:
        return dt.datetime.combine(day, dt.time(hour), BERLIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def ago(days: int) -> dt.date:
        return as_of - dt.timedelta(days=days)

    old_invoice = dt.date(as_of.year - 12, 6, 1)  # retained until 31 Dec (year - 2): long due
    recent_invoice = dt.date(as_of.year - 2, 3, 1)  # still in its statutory period
    tickets = [
        {"ticket_id": f"T-DEMO-{k}", "contact_id": contact, "opened_at": ts(ago(days + 3)),
         "closed_at": ts(ago(days)), "status": "closed", "category": "software", "message_count": 4}
        for k, (contact, days) in enumerate([("C90000011", 700), ("C90000011", 650), ("C90000013", 40),
                                             ("C90000013", 90)], 1)
    ]
    contracts = [
        {"contract_id": "V-DEMO-11", "contact_id": "C90000011", "start_date": dt.date(as_of.year - 13, 1, 1),
         "end_date": ago(400), "status": "ended"},
        {"contract_id": "V-DEMO-12", "contact_id": "C90000012", "start_date": dt.date(as_of.year - 13, 1, 1),
         "end_date": dt.date(as_of.year - 11, 12, 31), "status": "ended"},
        {"contract_id": "V-DEMO-13", "contact_id": "C90000013", "start_date": ago(900), "end_date": ago(100),
         "status": "ended"},
    ]
    invoices = [
        {"invoice_id": f"R-DEMO-{k}", "contract_id": contract, "contact_id": "C900000" + contract[-2:],
         "invoice_date": day, "amount_eur": 119}
        for k, (contract, day) in enumerate([("V-DEMO-11", old_invoice), ("V-DEMO-11", recent_invoice),
                                             ("V-DEMO-12", old_invoice), ("V-DEMO-13", ago(200))], 1)
    ]
    requests = [
        {"request_id": "DSR-DEMO-12-held-while-open", "contact_id": "C90000012", "right": "access",
         "channel": "email", "received_at": ts(ago(60)), "identity_verified_at": ts(ago(59)),
         "status": "completed", "closed_at": ts(ago(40)), "outcome": "completed", "assignee": STAFF[1]},
        {"request_id": "DSR-DEMO-13-erasure-not-done", "contact_id": "C90000013", "right": "erasure",
         "channel": "web_form", "received_at": ts(ago(50)), "identity_verified_at": ts(ago(49)),
         "status": "completed", "closed_at": ts(ago(30)), "outcome": "completed", "assignee": STAFF[2]},
    ]
    holds = [{"hold_id": "H-DEMO-11", "record_type": "subject", "record_id": "C90000011",
              "kind": "erasure_statutory", "reason": "erasure requested, statutory retention",
              "set_by": "DSB Schneider", "set_at": ts(ago(300)), "review_date": ago(-65)}]
    consent = [
        ("C90000014", "requested", 800, "2023-06"), ("C90000014", "confirmed", 799, "2023-06"),
        ("C90000014", "withdrawn", 300, None), ("C90000014", "requested", 100, None),
        ("C90000014", "confirmed", 99, None), ("C90000015", "granted", 1500, "2021-03"),
    ]
    events = [{"event_id": f"E-DEMO-{k}", "contact_id": contact, "purpose": "newsletter", "action": action,
               "occurred_at": ts(ago(days)), "notice_version": version, "channel": "web"}
              for k, (contact, action, days, version) in enumerate(consent, 1)]
    contacts = [{"contact_id": f"C900000{k}", "first_name": "Demo", "last_name": f"Situation {k}",
                 "email": f"situation{k}@beispiel.de", "created_at": ts(ago(5000))} for k in range(11, 16)]
    return {"helpdesk/contacts.csv": contacts, "helpdesk/tickets.csv": tickets,
            "billing/contracts.parquet": contracts, "billing/invoices.parquet": invoices,
            "privacy_register/requests.jsonl": requests, "privacy_register/holds.jsonl": holds,
            "newsletter/consent_events.jsonl": events}
