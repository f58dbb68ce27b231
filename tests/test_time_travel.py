"""Time travel: at any moment of the demo's two years, what the snapshot says equals the rules of
DOMAIN.md applied, here in plain Python, to the raw demo stores as they stood then.

The reference below reads the stores themselves (not the snapshot's derived tables) and uses only
the scalar rules of ``dashboard.deadlines``; the compositions (which hold applies when, which
records exist, which consent cycle is current) are written out again here, independently of the
SQL. Moments are drawn by hypothesis, plus the moments just before and after notifications,
closings, releases and DST changes, where a look back most easily goes wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections import defaultdict
from functools import cached_property
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dashboard import data
from dashboard import deadlines as d
from dashboard.build import build_snapshot
from dashboard.policy import load_policy
from dashboard.snapshot import current_snapshot
from tests.helpers import AS_OF

BERLIN = d.BERLIN
START = dt.datetime.combine(AS_OF - dt.timedelta(days=730), dt.time(0), BERLIN)
END = dt.datetime.combine(AS_OF, dt.time(23, 59), BERLIN)
STATUTORY = {c for c, r in load_policy().retention.items() if r.statutory_duty}


def _ts(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _day(value: str | None) -> dt.date | None:
    return None if value is None else d.berlin_date(_ts(value))


class Stores:
    """The raw demo stores, read as the source systems wrote them."""

    def __init__(self, folder):
        self.folder = folder

    def _rows(self, rel: str) -> list[dict]:
        path = self.folder / rel
        if rel.endswith(".csv"):
            frame = pl.read_csv(path, infer_schema=False)
        elif rel.endswith(".parquet"):
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_ndjson(path, infer_schema_length=None)
        return frame.to_dicts()

    @cached_property
    def policy(self):
        return load_policy()

    @cached_property
    def requests(self) -> list[dict]:
        rows = self._rows("privacy_register/requests.jsonl")
        for r in rows:
            r["received"] = _day(r["received_at"])
            r["closed"] = _day(r["closed_at"])
            r["deadline"] = d.request_deadline(r["received"], _day(r["extension_notified_at"])).deadline
        return rows

    @cached_property
    def incidents(self) -> list[dict]:
        rows = self._rows("privacy_register/incidents.jsonl")
        # R2.4b: a breach that says closed without its closing time is not part of the register.
        return [r for r in rows if not (r["status"] == "closed" and r["closed_at"] is None)]

    @cached_property
    def records(self) -> list[dict]:
        """Every governed record with its category, retained-until and the day it came into being."""
        out = []
        for t in self._rows("helpdesk/tickets.csv"):
            if t["status"] == "closed" and t["closed_at"]:
                closed = _day(t["closed_at"])
                out.append(dict(record_type="ticket", record_id=t["ticket_id"], contact_id=t["contact_id"],
                                category="support_communication", created=_day(t["opened_at"]),
                                until=d.retention_end("support_communication", closed)))
        for c in self._rows("billing/contracts.parquet"):
            if c["end_date"] is not None:
                out.append(dict(record_type="contract", record_id=c["contract_id"], contact_id=c["contact_id"],
                                category="contract", created=c["start_date"],
                                until=d.retention_end("contract", c["end_date"])))
        for i in self._rows("billing/invoices.parquet"):
            out.append(dict(record_type="invoice", record_id=i["invoice_id"], contact_id=i["contact_id"],
                            category="billing", created=i["invoice_date"],
                            until=d.retention_end("billing", i["invoice_date"])))
        return out

    @cached_property
    def attachment_bytes(self) -> dict[str, int]:
        out = defaultdict(int)
        for a in self._rows("helpdesk/attachments.csv"):
            out[a["ticket_id"]] += int(a["size_bytes"])
        return out

    @cached_property
    def contacts(self) -> dict[str, dt.date]:
        return {c["contact_id"]: _day(c["created_at"]) for c in self._rows("helpdesk/contacts.csv")}

    @cached_property
    def running(self) -> list[tuple[str, dt.date]]:
        """(subject, since) of what has no retention clock yet: open tickets, contracts without an end."""
        out = [(t["contact_id"], _day(t["opened_at"])) for t in self._rows("helpdesk/tickets.csv")
               if not (t["status"] == "closed" and t["closed_at"])]
        out += [(c["contact_id"], c["start_date"]) for c in self._rows("billing/contracts.parquet")
                if c["end_date"] is None]
        return out

    @cached_property
    def holds(self) -> list[dict]:
        """Everything that can hold: (target type, target id, kind, from, until exclusive)."""
        out = [("hold", h["record_type"], h["record_id"], h["kind"], _day(h["set_at"]), _day(h["released_at"]))
               for h in self._rows("privacy_register/holds.jsonl")]
        for r in self.requests:  # R3.3: from receipt until closing, while open by R1.8 (a duplicate: until closed)
            if r["contact_id"]:
                until = None if d.is_open_request(r["status"], r["closed"]) else (r["closed"] or r["received"])
                out.append(("request", "subject", r["contact_id"], "open_request", r["received"], until))
        for r in self.erasures:  # section 5: the completed request restricts, whether or not a hold row says so
            out.append(("request", "subject", r["contact_id"], "erasure_statutory", r["closed"], None))
        incidents = {i["incident_id"]: i for i in self.incidents}
        for link in self._rows("privacy_register/incident_records.jsonl"):
            i = incidents.get(link["incident_id"])
            if i and i["status"] != "not_personal_data":
                start = _day(i["aware_at"] or i["detected_at"])
                out.append(("incident", link["record_type"], link["record_id"], "incident", start,
                            _day(i["closed_at"])))
        return out

    @cached_property
    def erasures(self) -> list[dict]:
        return [r for r in self.requests if r["right"] == "erasure" and r["status"] == "completed"
                and r["closed"] and r["contact_id"]]

    @cached_property
    def consent_events(self) -> dict[tuple[str, str], list[dict]]:
        pairs = defaultdict(list)
        for e in self._rows("newsletter/consent_events.jsonl"):
            e["at"] = _ts(e["occurred_at"])
            pairs[(e["contact_id"], e["purpose"])].append(e)
        return pairs


def _active(window_from: dt.date | None, window_to: dt.date | None, day: dt.date) -> bool:
    return window_from is not None and window_from <= day and (window_to is None or window_to > day)


def retention_statuses(s: Stores, day: dt.date, window: int, retained: bool = False) -> dict[tuple[str, str], str]:
    """R3.3, R3.4, R3.6 and section 5 per record existing on ``day``, from the raw stores (the retained
    ones too when asked)."""
    grace = s.policy.settings.erasure_grace_days
    by_record, by_subject = defaultdict(list), defaultdict(list)
    for _, target_type, target_id, kind, start, until in s.holds:
        (by_subject if target_type == "subject" else by_record)[target_id if target_type == "subject"
                                                                else (target_type, target_id)].append(
            (kind, start, until))
    erased_by = defaultdict(list)
    for r in s.erasures:
        erased_by[r["contact_id"]].append(r["closed"])
    out = {}
    for rec in s.records:
        if not d.record_exists(rec["created"], day):  # R3.4: not yet in being
            continue
        statutory = rec["category"] in STATUTORY
        held = False
        for kind, start, until in by_record[(rec["record_type"], rec["record_id"])] + by_subject[rec["contact_id"]]:
            if kind == "erasure_statutory" and not d.erasure_restricts(statutory, rec["until"], day):
                continue
            held = held or _active(start, until, day)
        erased = any(d.erasure_not_carried_out(statutory, rec["created"], done, grace, day)
                     for done in erased_by[rec["contact_id"]])
        status = d.retention_status(rec["until"], day, held, window, erasure_due=erased)
        if retained or status != "retained":
            out[(rec["record_type"], rec["record_id"])] = status
    return out


def retention_figures(s: Stores, day: dt.date, window: int) -> dict[str, dict[str, int]]:
    """Per category on ``day``: the records that existed then by status, all of them, and the bytes due."""
    statuses = retention_statuses(s, day, window, retained=True)
    out = defaultdict(lambda: defaultdict(int))
    for rec in s.records:
        status = statuses.get((rec["record_type"], rec["record_id"]))
        if status is None:
            continue
        figures = out[rec["category"]]
        figures[status] += 1
        figures["records"] += 1
        if status == "due" and rec["record_type"] == "ticket":
            figures["bytes_due"] += s.attachment_bytes.get(rec["record_id"], 0)
    return out


def retention_forecast(s: Stores, day: dt.date) -> list[tuple[dt.date, str, int]]:
    """What becomes deletable per month in the 12 months from ``day``'s month: records neither held nor
    due, from the day after their retained-until."""
    statuses = retention_statuses(s, day, 0, retained=True)
    end = d.add_months(day.replace(day=1), 12)
    months = defaultdict(int)
    for rec in s.records:
        status = statuses.get((rec["record_type"], rec["record_id"]))
        free = rec["until"] + dt.timedelta(days=1)
        if status in ("approaching", "retained") and day < free < end:
            months[(free.replace(day=1), rec["category"])] += 1
    return sorted((month, category, n) for (month, category), n in months.items())


def consent_proofs(s: Stores, day: dt.date, settings_) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """R4.2 state and R4.4 findings of every pair asked by ``day``: the current cycle is what follows
    the last withdrawal."""
    order = {"requested": 0, "granted": 1, "confirmed": 1, "withdrawn": 2}
    out = {}
    for pair, events in s.consent_events.items():
        seen = sorted({(e["at"], order[e["action"]], e["action"], e["notice_version"]) for e in events
                       if d.berlin_date(e["at"]) <= day}, key=lambda e: (e[0], e[1], e[3] or ""))
        if not seen:
            continue
        state = d.consent_state([(at, action) for at, _, action, _ in seen])
        last_withdrawal = max((k for k, e in enumerate(seen) if e[2] == "withdrawn"), default=-1)
        cycle = seen[last_withdrawal + 1:]
        versions = [v for _, _, a, v in cycle if v is not None]
        requested = max((at for at, _, a, _ in cycle if a == "requested"), default=None)
        confirmed = max((at for at, _, a, _ in cycle if a == "confirmed"), default=None)
        found = d.consent_findings(pair[1], state, versions[-1] if versions else None, requested, confirmed, day,
                                   settings_.current_notice_version, settings_.pending_optin_max_days)
        out[pair] = (state, found)
    return out


def deletable_subjects(s: Stores, day: dt.date, statuses: dict, consents: dict) -> set[str]:
    """R3.5 on ``day``: every subject (existing then) whose master data nothing keeps."""
    records = defaultdict(list)
    for rec in s.records:
        if rec["created"] <= day:
            records[rec["contact_id"]].append(statuses.get((rec["record_type"], rec["record_id"]), "retained"))
    running = {c for c, since in s.running if since <= day}
    active = {c for (c, _), (state, _) in consents.items() if state == "active"}
    concerned = {target for _, target_type, target, kind, start, until in s.holds
                 if target_type == "subject" and kind != "erasure_statutory" and _active(start, until, day)}
    return {c for c, created in s.contacts.items() if created <= day and d.master_data_deletable(
        records[c], running=c in running, active_consent=c in active, concerned=c in concerned)}


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_amended_cases(folder, seed: int = 39) -> None:
    """Add to the demo stores in ``folder`` what the 2026-12-06 amendments are about, at random: duplicate
    requests with and without a closing (R1.8), completed erasure requests with no hold row for subjects
    with invoices (section 5), and records that came into being late in the two years (R3.4)."""
    rng = random.Random(seed)
    tickets = pl.read_csv(folder / "helpdesk/tickets.csv", infer_schema=False)
    invoices = pl.read_parquet(folder / "billing/invoices.parquet")
    with_tickets = sorted(set(tickets["contact_id"]))
    with_invoices = sorted(set(invoices["contact_id"]))

    def moment(days_back_min: int, days_back_max: int) -> dt.datetime:
        return END - dt.timedelta(days=rng.randint(days_back_min, days_back_max), minutes=rng.randint(0, 1439))

    requests = []
    for k in range(12):
        received = moment(5, 700)
        closed = received + dt.timedelta(days=rng.randint(1, 60)) if k % 2 else None
        requests.append({"request_id": f"DSR-AMEND-DUP-{k}", "contact_id": rng.choice(with_tickets),
                         "right": rng.choice(["access", "erasure", "restriction"]), "channel": "email",
                         "received_at": _iso(received), "status": "duplicate",
                         "closed_at": _iso(min(closed, END)) if closed else None, "assignee": "Weber"})
    for k in range(8):
        received = moment(20, 700)
        requests.append({"request_id": f"DSR-AMEND-ERASE-{k}", "contact_id": rng.choice(with_invoices),
                         "right": "erasure", "channel": "web_form", "received_at": _iso(received),
                         "status": "completed", "closed_at": _iso(received + dt.timedelta(days=rng.randint(1, 20))),
                         "outcome": "completed", "assignee": "Schneider"})
    with (folder / "privacy_register/requests.jsonl").open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(r) + "\n" for r in requests)
    late = [invoices.row(rng.randrange(invoices.height), named=True) | {
        "invoice_id": f"R-AMEND-{k}", "invoice_date": (END - dt.timedelta(days=rng.randint(0, 400))).date()}
        for k in range(15)]
    pl.concat([invoices, pl.DataFrame(late, schema=invoices.schema)]).write_parquet(
        folder / "billing/invoices.parquet")
    opened = [moment(0, 300) for _ in range(10)]
    new_tickets = [{"ticket_id": f"T-AMEND-{k}", "contact_id": rng.choice(with_invoices), "opened_at": _iso(at),
                    "closed_at": _iso(min(at + dt.timedelta(days=rng.randint(0, 30)), END)), "status": "closed",
                    "category": "network", "message_count": "3"} for k, at in enumerate(opened)]
    pl.concat([tickets, pl.DataFrame(new_tickets, schema=tickets.schema)]).write_csv(folder / "helpdesk/tickets.csv")


@pytest.fixture(scope="module")
def amended_data_dir(demo_data_dir, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("amended")
    shutil.copytree(demo_data_dir / "demo", base / "demo")
    add_amended_cases(base / "demo")
    build_snapshot(data_dir=base)
    return base


@pytest.fixture(scope="module", params=["demo", "amended"])
def world(request):
    """The demo as generated, and the demo with the amendments' cases added."""
    folder = request.getfixturevalue("demo_data_dir" if request.param == "demo" else "amended_data_dir")
    con = data.connect(current_snapshot(folder / "snapshots"))
    yield con, Stores(folder / "demo")
    con.close()


def test_the_worlds_hold_every_amended_case(world):
    """Each class of the 2026-12-06 amendments occurs, so the look-backs below check it."""
    _, s = world
    duplicates = [r for r in s.requests if r["status"] == "duplicate"]
    assert any(r["closed"] for r in duplicates)
    recorded = {h[2] for h in s.holds if h[0] == "hold" and h[3] == "erasure_statutory"}
    assert any(r["contact_id"] not in recorded and any(
        rec["contact_id"] == r["contact_id"] and rec["category"] in STATUTORY for rec in s.records)
        for r in s.erasures)
    assert max(rec["created"] for rec in s.records) > START.date() + dt.timedelta(days=600)
    if s.folder.parent.name.startswith("amended"):
        assert any(r["closed"] is None for r in duplicates)


def _edge_moments() -> list[dt.datetime]:
    """Just before and after the demo's notifications (the situations sit around AS_OF noon), DST changes."""
    ref = dt.datetime.combine(AS_OF, dt.time(12), BERLIN)
    moments = []
    for aware_h, notified_h in ((500, 90), (600, 110), (400, 50)):  # late with reason, late silent, on time
        notified = ref - dt.timedelta(hours=aware_h) + dt.timedelta(hours=notified_h)
        moments += [notified - dt.timedelta(seconds=1), notified]
    for change in (dt.datetime(2026, 3, 29, 1, 59, tzinfo=dt.UTC), dt.datetime(2025, 10, 26, 0, 59, tzinfo=dt.UTC)):
        moments += [change, change + dt.timedelta(minutes=2)]
    # The situations: C90000012's request (open from 60 to 40 days ago), C90000013's erasure (30 days ago).
    moments += [ref - dt.timedelta(days=k) for k in (61, 60, 41, 40, 23, 22)]
    return moments


moments = st.datetimes(min_value=START.replace(tzinfo=None), max_value=END.replace(tzinfo=None),
                       timezones=st.just(dt.UTC))


def _check(world, moment: dt.datetime) -> None:
    con, s = world
    settings_ = s.policy.settings
    day = d.berlin_date(moment)

    # R2.4, R2.4a: every breach clock and Art. 34 status as it stood at the moment.
    got = {r["incident_id"]: (r["clock"], r["art34"], r["still_open"])
           for r in con.sql("SELECT * FROM breaches_on($m::TIMESTAMPTZ, 24)", params={"m": moment}).pl()
           .iter_rows(named=True)}
    want = {}
    for i in s.incidents:
        aware = _ts(i["aware_at"])
        if aware is None or aware > moment or i["status"] == "not_personal_data":
            continue
        clock = d.breach_clock(aware, i["risk"], _ts(i["authority_notified_at"]), moment, i["delay_reason"], 24)
        art34 = d.art34_status(i["risk"], _ts(i["subjects_informed_at"]), i["art34_exemption"], moment,
                               exemption_at=_ts(i["art34_exemption_at"]))
        want[i["incident_id"]] = (clock.status, art34, not d.incident_closed(_ts(i["closed_at"]), moment))
    assert got == want

    # R1.8, R1.9: open requests and their clocks; answers of the last 90 days.
    queue = con.sql("SELECT request_id, clock FROM requests_on($d::DATE, 7) WHERE is_open",
                    params={"d": day}).pl()
    want_open = {r["request_id"]: d.request_status(r["deadline"], day, 7) for r in s.requests
                 if d.request_open_on(r["status"], r["received"], r["closed"], day)}
    assert dict(queue.iter_rows()) == want_open
    kpi = data.run(con, "requests_kpis", as_of=day, due_soon_days=7).row(0, named=True)
    answered = [r for r in s.requests if r["status"] in d.ANSWERED and d.in_last_days(r["closed"], day, 90)]
    assert kpi["answered_90d"] == len(answered)

    # R3.3-R3.6: every record's status on the day.
    listed = con.sql("SELECT record_type, record_id, status FROM retention_on($d::DATE, 30, "
                     "['due', 'approaching', 'held'])", params={"d": day}).pl()
    got_records = {(t, i): status for t, i, status in listed.iter_rows()}
    want_records = retention_statuses(s, day, 30)
    assert got_records == want_records
    counts = data.run(con, "retention_summary", as_of=day, window_days=30, categories=[], systems=[])
    got_figures = {c: {k: v for k, v in row.items() if v} for c, row in
                   counts.group_by("category").agg(pl.col("due", "approaching", "held", "records", "bytes_due").sum())
                   .rows_by_key("category", named=True, unique=True).items()}
    want_figures = retention_figures(s, day, 30)
    assert got_figures == {c: {k: v for k, v in f.items() if v and k != "retained"} for c, f in want_figures.items()}
    # R3.4 amended: only records in being are counted, so the retained ones follow too.
    for category, row in got_figures.items():
        retained = row["records"] - sum(row.get(k, 0) for k in ("due", "approaching", "held"))
        assert retained == want_figures[category]["retained"], category
    forecast = data.run(con, "retention_forecast", as_of=day, categories=[], systems=[])
    assert forecast.rows() == retention_forecast(s, day)

    # R4.2, R4.4: every consent's state and findings.
    consents = con.sql("SELECT contact_id, purpose, state, consent_findings(purpose, state, notice_version, "
                       "requested_at, confirmed_at, $d::DATE, $v, $p) AS f FROM consent_on($d::DATE)",
                       params={"d": day, "v": settings_.current_notice_version,
                               "p": settings_.pending_optin_max_days}).pl()
    got_consents = {(c, p): (state, tuple(f)) for c, p, state, f in consents.iter_rows()}
    want_consents = consent_proofs(s, day, settings_)
    assert got_consents == want_consents

    # R3.5: whose master data may go (the retention statuses above use window 30; "due" does not depend on it).
    deletable = set(data.run(con, "deletable_subjects", as_of=day)["contact_id"])
    assert deletable == deletable_subjects(s, day, want_records, want_consents)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moment=moments)
@example(moment=dt.datetime.combine(AS_OF, dt.time(11), dt.UTC))
def test_every_figure_is_what_stood_then(world, moment):
    _check(world, moment)


@pytest.mark.parametrize("moment", _edge_moments(), ids=lambda m: m.isoformat())
def test_edges_of_look_backs(world, moment):
    _check(world, moment)


def _data_edges(s: Stores) -> list[dt.datetime]:
    """A second before and at every notification, Art. 34 information and closing of a breach, and the
    Berlin midnight before and of every request's closing and hold's release in the demo stores."""
    edges = []
    for i in s.incidents:
        for key in ("authority_notified_at", "subjects_informed_at", "closed_at", "aware_at"):
            if i[key]:
                at = _ts(i[key])
                edges += [at - dt.timedelta(seconds=1), at]
    days = [r["closed"] for r in s.requests if r["closed"]]
    days += [until for *_, until in s.holds if until]
    for day in days:
        midnight = dt.datetime.combine(day, dt.time(0), BERLIN).astimezone(dt.UTC)
        edges += [midnight - dt.timedelta(seconds=1), midnight]
    return sorted({e for e in edges if START <= e <= END})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_edge_in_the_data_is_what_stood_then(world, data):
    """Hypothesis picks among all the edges of the demo's own records (notifications, closings, releases)."""
    _check(world, data.draw(st.sampled_from(_data_edges(world[1]))))


def test_a_contact_exists_from_the_berlin_day_it_was_created(tmp_path):
    """R3.5 looking back counts only the contacts that existed on the date, by the Berlin day of their
    creation: 23:30 in Berlin is still that day, 00:30 already the next (here both are 30 June in UTC)."""
    from tests.helpers import write_store

    contacts = [{"contact_id": cid, "first_name": "Erika", "last_name": "Muster", "created_at": created}
                for cid, created in (("C-evening", "2026-06-30T21:30:00Z"), ("C-night", "2026-06-30T22:30:00Z"))]
    snapshot = build_snapshot(write_store(tmp_path / "src", {"contacts": contacts}), data_dir=tmp_path / "data").path
    con = data.connect(snapshot)
    try:
        def existing(day: str) -> list[str]:
            found = data.run(con, "deletable_subjects", as_of=dt.date.fromisoformat(day))["contact_id"]
            return sorted(found)

        assert existing("2026-06-29") == []
        assert existing("2026-06-30") == ["C-evening"]
        assert existing("2026-07-01") == ["C-evening", "C-night"]
    finally:
        con.close()
