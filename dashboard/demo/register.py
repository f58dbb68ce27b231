"""The privacy register (JSON Lines): requests with their pauses and events, breaches with the
records they concern, holds, and the systems' confirmations of erasures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dashboard.deadlines import BERLIN, holiday_calendar, request_due_date
from dashboard.demo.common import DAY, HOUR, STAFF, _date, _ids, _iso, _text


def requests(g) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    n, rng, ref = g.scale.requests, g.rng, g.ref
    received = ref - rng.integers(0, 730 * DAY, n)
    age_days = (ref - received) / DAY
    old_status = g.choice(["completed", "rejected", "withdrawn", "duplicate"], n, p=[0.85, 0.08, 0.04, 0.03])
    new_status = g.choice(["in_progress", "received", "unverified", "paused", "completed"], n,
                             p=[0.6, 0.15, 0.1, 0.1, 0.05])
    status = np.where(age_days > 45, old_status, new_status)
    took = np.where(rng.random(n) < 0.9, rng.integers(2, 28, n), rng.integers(33, 50, n)) * DAY
    closed = np.where(np.isin(status, ["completed", "rejected", "withdrawn", "duplicate"]),
                      np.minimum(received + took, ref), -1)
    verified = np.where(status == "unverified", -1, received + rng.integers(HOUR, 5 * DAY, n))
    extended = (rng.random(n) < 0.08) & (status != "unverified")
    bulk = pl.DataFrame({
        "request_id": _ids("DSR", n),
        "contact_id": g.contact_keys(n),
        "right": g.choice(["access", "erasure", "objection", "rectification", "restriction", "portability"],
                             n, p=[0.45, 0.25, 0.1, 0.1, 0.05, 0.05]),
        "channel": g.choice(["email", "web_form", "letter", "phone", "in_person"], n,
                               p=[0.5, 0.3, 0.1, 0.07, 0.03]),
        "_received": received,
        "_verified": np.minimum(verified, ref),
        "_extension": np.where(extended, np.minimum(received + 20 * DAY, ref), -1),
        "status": status,
        "_closed": closed,
        "assignee": g.choice(STAFF, n),
    }).with_columns(
        extension_reason=pl.when(pl.col("_extension") >= 0).then(pl.lit("Komplexität: mehrere Systeme")),
        outcome=pl.when(pl.col("_closed") >= 0).then(pl.col("status")),
    )
    bulk = pl.concat([bulk, _request_scenarios(g)], how="diagonal_relaxed")
    requests = bulk.with_columns(
        received_at=_iso(pl.col("_received")),
        identity_verified_at=pl.when(pl.col("_verified") >= 0).then(_iso(pl.col("_verified"))),
        extension_notified_at=pl.when(pl.col("_extension") >= 0).then(_iso(pl.col("_extension"))),
        closed_at=pl.when(pl.col("_closed") >= 0).then(_iso(pl.col("_closed"))),
    )
    paused = requests.filter(pl.col("status") == "paused")
    pauses = pl.DataFrame({
        "pause_id": _ids("P", paused.height),
        "request_id": paused["request_id"],
        "start_date": _date(paused["_received"] + 2 * DAY).alias("start_date"),
        "reason": g.choice(["identity_proof", "clarification"], paused.height),
    }).with_columns(end_date=pl.lit(None, pl.Date))
    events = pl.concat([
        requests.select("request_id", occurred_at="received_at", event=pl.lit("received")),
        requests.filter(pl.col("identity_verified_at").is_not_null())
        .select("request_id", occurred_at="identity_verified_at", event=pl.lit("identity_verified")),
        requests.filter(pl.col("extension_notified_at").is_not_null())
        .select("request_id", occurred_at="extension_notified_at", event=pl.lit("extension_notified")),
        requests.filter(pl.col("closed_at").is_not_null())
        .select("request_id", occurred_at="closed_at", event="status"),
    ])
    events = events.with_columns(event_id=_ids("RE", events.height), detail=pl.lit(None, pl.String))
    requests = requests.select(
        "request_id", "contact_id", "right", "channel", "received_at", "identity_verified_at",
        "extension_notified_at", "extension_reason", "status", "closed_at", "outcome", "assignee",
    )
    return requests, pauses.select("pause_id", "request_id", "start_date", "end_date", "reason"), events.select(
        "event_id", "request_id", "occurred_at", "event", "detail")


def _request_scenarios(g) -> pl.DataFrame:
    """Requests in every state the work queue must show, placed relative to ``as_of``."""
    as_of, ref = g.as_of, g.ref

    def at(day: dt.date, hour: int = 10) -> int:
        return int(dt.datetime.combine(day, dt.time(hour), BERLIN).timestamp())

    def received_for_days_left(days_left: int) -> dt.date:
        day = as_of - dt.timedelta(days=20)
        while (request_due_date(day) - as_of).days > days_left:
            day -= dt.timedelta(days=1)
        return day

    saturday = as_of - dt.timedelta(days=(as_of.weekday() - 5) % 7 or 7)
    holiday = next(d for d in (as_of - dt.timedelta(days=k) for k in range(1, 400)) if d in holiday_calendar())
    rows = [
        # id suffix, right, status, received, extension notified (days after receipt), closed (days after)
        ("overdue", "access", "in_progress", as_of - dt.timedelta(days=40), None, None),
        ("due-soon", "erasure", "in_progress", received_for_days_left(3), None, None),
        ("ext-valid", "access", "in_progress", as_of - dt.timedelta(days=50), 20, None),
        ("ext-late", "portability", "in_progress", as_of - dt.timedelta(days=45), 38, None),
        ("weekend", "objection", "received", saturday, None, None),
        ("holiday", "restriction", "in_progress", holiday, None, None),
        ("paused", "access", "paused", as_of - dt.timedelta(days=12), None, None),
        ("unverified", "erasure", "unverified", as_of - dt.timedelta(days=5), None, None),
        ("ontime", "access", "completed", as_of - dt.timedelta(days=60), None, 20),
        ("late", "erasure", "completed", as_of - dt.timedelta(days=70), None, 45),
    ]
    out = []
    for i, (name, right, status, received, ext, closed) in enumerate(rows, 1):
        r = at(received)
        out.append({
            "request_id": f"DSR-DEMO-{i:02d}-{name}", "contact_id": f"C{i:08d}", "right": right,
            "channel": "email", "_received": r,
            "_verified": -1 if status == "unverified" else min(r + DAY, ref),
            "_extension": r + ext * DAY if ext else -1, "status": status,
            "_closed": r + closed * DAY if closed else -1, "assignee": STAFF[i % len(STAFF)],
            "extension_reason": "Komplexität: mehrere Systeme" if ext else None,
            "outcome": status if closed else None,
        })
    return pl.DataFrame(out)


def incidents(g) -> pl.DataFrame:
    n, rng, ref = g.scale.incidents, g.rng, g.ref
    detected = ref - rng.integers(10 * DAY, 3 * 365 * DAY, n)
    aware = detected + rng.exponential(10 * HOUR, n).astype(np.int64)
    risk = g.choice(["none", "risk", "high"], n, p=[0.45, 0.4, 0.15])
    not_pd = rng.random(n) < 0.1
    late = rng.random(n) < 0.15
    notified = aware + np.where(late, rng.integers(75 * HOUR, 150 * HOUR, n), rng.integers(5 * HOUR, 70 * HOUR, n))
    notified = np.where((risk == "none") | not_pd, -1, notified)
    high = (risk == "high") & ~not_pd
    exempt = high & (rng.random(n) < 0.3)
    closing = aware + rng.integers(7 * DAY, 60 * DAY, n)
    bulk = pl.DataFrame({
        "incident_id": _ids("INC", n),
        "title": g.choice(["Fehlversand E-Mail", "Verlorener Laptop", "Phishing-Zugang", "Ransomware-Versuch",
                              "Falsch konfigurierte Freigabe", "Ausfall Ticketsystem"], n),
        "type": g.choice(["confidentiality", "integrity", "availability"], n, p=[0.6, 0.15, 0.25]),
        "_detected": detected, "_aware": np.where(not_pd, -1, aware),
        "personal_data": ~not_pd,
        "risk": _text(np.where(not_pd, None, risk)),
        "subjects_affected": np.where(not_pd, 0, rng.integers(1, 2_000, n)),
        "_notified": notified,
        "delay_reason": _text(np.where(late & (notified >= 0) & (rng.random(n) < 0.6),
                                       "Forensik abgewartet", None)),
        "_informed": np.where(high & ~exempt, aware + rng.integers(24 * HOUR, 120 * HOUR, n), -1),
        "art34_exemption": _text(np.where(exempt, g.choice(["a", "b", "c"], n), None)),
        "_exempt": np.where(exempt, aware + rng.integers(2 * HOUR, 48 * HOUR, n), -1),
        # Closed once the closing date has passed; until then contained (R2.4b: closed has closed_at).
        "status": np.where(not_pd, "not_personal_data",
                           np.where(closing <= ref, "closed", "contained")),
        "_contained": aware + rng.integers(HOUR, 72 * HOUR, n),
        "_closed": closing,
    })
    return pl.concat([bulk, _incident_scenarios(g)], how="diagonal_relaxed").with_columns(
        detected_at=_iso(pl.col("_detected")),
        aware_at=pl.when(pl.col("_aware") >= 0).then(_iso(pl.col("_aware"))),
        authority_notified_at=pl.when(pl.col("_notified") >= 0).then(_iso(pl.col("_notified"))),
        subjects_informed_at=pl.when(pl.col("_informed") >= 0).then(_iso(pl.col("_informed"))),
        art34_exemption_at=pl.when(pl.col("_exempt") >= 0).then(_iso(pl.col("_exempt"))),
        contained_at=pl.when(pl.col("_contained").is_between(0, ref)).then(_iso(pl.col("_contained"))),
        closed_at=pl.when(pl.col("_closed").is_between(0, ref) & (pl.col("status") == "closed"))
        .then(_iso(pl.col("_closed"))),
    ).select(
        "incident_id", "title", "type", "detected_at", "aware_at", "personal_data", "risk", "subjects_affected",
        "authority_notified_at", "delay_reason", "subjects_informed_at", "art34_exemption", "art34_exemption_at",
        "status",
        "contained_at", "closed_at",
    )


def _incident_scenarios(g) -> pl.DataFrame:
    """Breaches in every clock state, placed relative to the reference moment."""
    ref = g.ref
    rows = [
        # name, risk, aware hours ago, notified hours after awareness, delay reason, status
        ("open", "risk", 20, None, None, "risk_assessed"),
        ("warning", "high", 60, None, None, "risk_assessed"),
        ("unassessed", "unassessed", 30, None, None, "confirmed"),
        ("overdue", "risk", 100, None, None, "risk_assessed"),
        ("on-time", "risk", 400, 50, None, "notified"),
        ("late-reason", "high", 500, 90, "Forensik abgewartet", "contained"),
        ("late-no-reason", "risk", 600, 110, None, "contained"),
        ("not-required", "none", 200, None, None, "closed"),
        # R2.4b: says closed but has no closing time: the build rejects it with its reason.
        ("closed-no-date", "risk", 900, 40, None, "closed"),
    ]
    out = []
    for i, (name, risk, ago, notified, reason, status) in enumerate(rows, 1):
        aware = ref - ago * HOUR
        out.append({
            "incident_id": f"INC-DEMO-{i:02d}-{name}", "title": f"Demo: {name}", "type": "confidentiality",
            "_detected": aware - 6 * HOUR, "_aware": aware, "personal_data": True, "risk": risk,
            "subjects_affected": 25 * i, "_notified": aware + notified * HOUR if notified else -1,
            "delay_reason": reason, "_informed": -1, "art34_exemption": None, "status": status,
            "_contained": aware + 5 * HOUR if status in ("contained", "closed") else -1,
            "_closed": aware + 100 * HOUR if status == "closed" and name != "closed-no-date" else -1,
            "_exempt": -1,
        })
    return pl.DataFrame(out)


def incident_records(g, incidents: pl.DataFrame, tickets: pl.DataFrame) -> pl.DataFrame:
    """Each incident still under investigation concerns a few long-closed tickets (R3.3 holds them)."""
    open_ids = incidents.filter(~pl.col("status").is_in(["closed", "not_personal_data"]))["incident_id"]
    old_closed = tickets.filter(pl.col("closed_at") < (g.as_of - dt.timedelta(days=200)).isoformat())
    picked = old_closed.sample(min(3 * open_ids.len(), old_closed.height), seed=int(g.rng.integers(1 << 31)))
    n = picked.height
    return pl.DataFrame({
        "link_id": _ids("IL", n),
        "incident_id": open_ids.gather(np.arange(n) % max(open_ids.len(), 1)) if n else [],
        "record_type": ["ticket"] * n,
        "record_id": picked["ticket_id"],
    }, schema={"link_id": pl.String, "incident_id": pl.String, "record_type": pl.String, "record_id": pl.String})


def holds(g, tickets: pl.DataFrame, invoices: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
    rng = g.rng
    k = max(g.scale.tickets // 400, 5)
    old_closed = tickets.filter(pl.col("closed_at") < (g.as_of - dt.timedelta(days=200)).isoformat())
    t = old_closed.sample(min(k, old_closed.height), seed=int(rng.integers(1 << 31)))
    inv = invoices.sample(max(g.scale.invoices // 2000, 3), seed=int(rng.integers(1 << 31)))
    erasure = requests.filter(pl.col("right") == "erasure").head(max(g.scale.requests // 50, 2))
    parts = [
        t.select(record_type=pl.lit("ticket"), record_id="ticket_id", kind=pl.lit("legal"),
                 reason=pl.lit("Rechtsstreit: Beweissicherung")),
        inv.select(record_type=pl.lit("invoice"), record_id="invoice_id", kind=pl.lit("tax"),
                   reason=pl.lit("Offene Betriebsprüfung (§ 147 Abs. 3 AO)")),
        erasure.select(record_type=pl.lit("subject"), record_id="contact_id", kind=pl.lit("erasure_statutory"),
                       reason=pl.lit("erasure requested, statutory retention")),
    ]
    h = pl.concat(parts)
    n = h.height
    set_at = g.ref - rng.integers(10 * DAY, 400 * DAY, n)
    released = np.where(rng.random(n) < 0.15, set_at + 5 * DAY, -1)
    return h.with_columns(
        hold_id=_ids("H", n),
        set_by=pl.Series(g.choice(["DSB Schneider", "Rechtsabteilung", "Buchhaltung"], n)),
        set_at=_iso(pl.Series(set_at)),
        review_date=_date(pl.Series(set_at + 180 * DAY)),
        released_at=pl.when(pl.Series(released) >= 0).then(_iso(pl.Series(released))),
    ).select("hold_id", "record_type", "record_id", "kind", "reason", "set_by", "set_at", "review_date",
             "released_at")


def erased(requests: pl.DataFrame, tickets: pl.DataFrame,
            contracts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Completed erasure requests were carried out (R3.6): the subject's tickets and contracts that
    existed at completion are gone; invoices stay (statutory retention). Only the situations show a
    missed erasure."""
    done = (requests.filter((pl.col("right") == "erasure") & (pl.col("status") == "completed"))
            .group_by("contact_id").agg(erased_at=pl.col("closed_at").max()))
    tickets = tickets.join(done, on="contact_id", how="left").filter(
        pl.col("erased_at").is_null() | (pl.col("opened_at") > pl.col("erased_at"))).drop("erased_at")
    contracts = contracts.join(done, on="contact_id", how="left").filter(
        pl.col("erased_at").is_null() | (pl.col("start_date").cast(pl.String) > pl.col("erased_at"))).drop("erased_at")
    return tickets, contracts


def deletion_tasks(requests: pl.DataFrame) -> pl.DataFrame:
    """Each system's confirmation that it carried out a completed erasure request: the
    helpdesk two hours, billing one hour before the request was closed. The situation whose erasure was
    not carried out shows why: the helpdesk's task failed and billing's is still in process."""
    done = requests.filter((pl.col("right") == "erasure") & (pl.col("status") == "completed")).sort("request_id")
    closed = pl.col("closed_at").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC")
    stuck = pl.col("request_id") == "DSR-DEMO-13-erasure-not-done"
    rows = []
    for system, hours, code in (("helpdesk", 2, "H"), ("billing", 1, "B")):
        state = "failed" if system == "helpdesk" else "in_process"
        rows.append(done.select(
            pl.concat_str(pl.lit(f"L{code}-"), pl.col("request_id")).alias("task_id"),
            pl.lit(system).alias("system"), pl.lit("request").alias("record_type"),
            pl.col("request_id").alias("record_id"),
            pl.when(stuck).then(pl.lit(state)).otherwise(pl.lit("completed")).alias("state"),
            (closed - pl.duration(hours=hours, minutes=10)).dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("created_at"),
            pl.when(stuck).then(None).otherwise((closed - pl.duration(hours=hours)).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
            .alias("completed_at")))
    return pl.concat(rows)
