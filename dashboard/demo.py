"""Synthetic operational stores of a German IT-support company, written as those systems export them.

The bulk is random but seeded (same seed, same files) and vectorised, so the large profile (1M
contacts, 10M tickets) takes minutes. On top of the bulk, scenario rows placed relative to ``as_of``
guarantee every situation the pages must show: overdue and due-soon requests, valid and late
extensions, receipts on weekends and holidays, breaches on time / late with and without reason /
within the 72 hours / not notifiable, records past retention and held, consents without proof.

Formats follow the stores: the helpdesk exports CSV, contracts and billing Parquet, the newsletter
tool and the privacy register JSON Lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from faker import Faker

from dashboard.deadlines import BERLIN, UTC, holiday_calendar, request_due_date
from dashboard.ingest.config import DEMO_MARKER

DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Scale:
    contacts: int
    tickets: int
    contracts: int
    invoices: int
    consent_events: int
    requests: int
    incidents: int


SCALES = {
    "small": Scale(2_000, 8_000, 1_500, 6_000, 5_000, 300, 40),
    "medium": Scale(50_000, 300_000, 60_000, 300_000, 150_000, 5_000, 300),
    "large": Scale(1_000_000, 10_000_000, 2_000_000, 10_000_000, 5_000_000, 50_000, 2_000),
}
STAFF = ("Schneider", "Weber", "Yilmaz", "Hoffmann")
NOTICE_VERSIONS = (("2019-05", "2021-03-01"), ("2021-03", "2023-06-01"), ("2023-06", "2025-01-01"), ("2025-01", None))


def _iso(epoch: pl.Expr) -> pl.Expr:
    """Epoch seconds -> ISO 8601 UTC text, as the source systems export timestamps."""
    return pl.from_epoch(epoch, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(epoch: pl.Expr) -> pl.Expr:
    return pl.from_epoch(epoch, time_unit="s").dt.date()


def _key(prefix: str, numbers) -> pl.Series:
    """Source-system keys such as ``C00000042`` from integers."""
    return prefix + pl.Series(numbers, dtype=pl.Int64).cast(pl.String).str.zfill(8)


def _text(values: np.ndarray) -> pl.Series:
    """An object array with gaps (None) as a string column."""
    return pl.Series(values.tolist(), dtype=pl.String)


def _ids(prefix: str, n: int) -> pl.Series:
    return _key(prefix, np.arange(1, n + 1))


class _Gen:
    def __init__(self, seed: int, as_of: dt.date, reference: dt.datetime, scale: Scale):
        self.rng = np.random.default_rng(seed)
        self.faker = Faker("de_DE")
        self.faker.seed_instance(seed)
        self.as_of = as_of
        self.ref = int(reference.timestamp())
        self.scale = scale

    def contact_keys(self, n: int) -> pl.Series:
        return _key("C", self.rng.integers(1, self.scale.contacts + 1, n))

    def choice(self, values, n, p=None):
        return self.rng.choice(np.array(values, dtype=object), n, p=p)

    # --- helpdesk ----------------------------------------------------------------------------

    def contacts(self) -> pl.DataFrame:
        n, f = self.scale.contacts, self.faker
        firsts = np.array([f.first_name() for _ in range(400)])
        lasts = np.array([f.last_name() for _ in range(600)])
        streets = np.array([f.street_name() for _ in range(300)])
        places = [(f.postcode(), f.city()) for _ in range(300)]
        fi, li, si, pi = (self.rng.integers(0, k, n) for k in (len(firsts), len(lasts), len(streets), len(places)))
        first, last = firsts[fi], lasts[li]
        df = pl.DataFrame({
            "contact_id": _ids("C", n),
            "first_name": first,
            "last_name": last,
            "street": np.char.add(np.char.add(streets[si], " "), self.rng.integers(1, 120, n).astype(str)),
            "postal_code": np.array([p[0] for p in places])[pi],
            "city": np.array([p[1] for p in places])[pi],
            "phone": np.char.add("+49 6", self.rng.integers(10_000_000, 99_999_999, n).astype(str)),
            "_created": self.ref - self.rng.integers(30 * DAY, 9 * 365 * DAY, n),
        })
        local = (
            pl.col("first_name").str.to_lowercase() + "." + pl.col("last_name").str.to_lowercase()
            + pl.int_range(pl.len()).cast(pl.String)
        ).str.replace_all(r"[^a-z0-9.]", "")
        domains = pl.Series(self.choice(["beispiel.de", "mail.example", "firma-demo.de", "web.example"], n))
        return df.with_columns(
            email=local + "@" + domains,
            created_at=_iso(pl.col("_created")),
        ).drop("_created")

    def tickets(self) -> pl.DataFrame:
        n, rng = self.scale.tickets, self.rng
        # Most tickets are recent; a backlog tail of older ones was never purged.
        age = np.where(rng.random(n) < 0.85, rng.integers(0, 300 * DAY, n), rng.integers(300 * DAY, 1500 * DAY, n))
        opened = self.ref - age
        closed = opened + (rng.exponential(4 * DAY, n) + 600).astype(np.int64)
        is_closed = closed <= self.ref
        status = np.where(is_closed, "closed", self.choice(["open", "pending"], n, p=[0.7, 0.3]))
        return pl.DataFrame({
            "ticket_id": _ids("T", n),
            "contact_id": self.contact_keys(n),
            "_opened": opened,
            "_closed": np.where(is_closed, closed, -1),
            "status": status,
            "category": self.choice(["hardware", "software", "network", "security", "account", "other"], n,
                                    p=[0.25, 0.3, 0.2, 0.08, 0.12, 0.05]),
            "message_count": 1 + rng.poisson(4, n),
        }).with_columns(
            opened_at=_iso(pl.col("_opened")),
            closed_at=pl.when(pl.col("_closed") >= 0).then(_iso(pl.col("_closed"))),
        ).select("ticket_id", "contact_id", "opened_at", "closed_at", "status", "category", "message_count")

    def attachments(self) -> pl.DataFrame:
        n = self.scale.tickets // 2
        kind = self.choice(["log_file", "configuration", "screenshot"], n, p=[0.5, 0.2, 0.3])
        return pl.DataFrame({
            "attachment_id": _ids("A", n),
            "ticket_id": _key("T", self.rng.integers(1, self.scale.tickets + 1, n)),
            "kind": kind,
            "size_bytes": self.rng.lognormal(11, 1.5, n).astype(np.int64) + 200,
        })

    # --- contracts and billing ---------------------------------------------------------------

    def contracts(self) -> pl.DataFrame:
        n, rng = self.scale.contracts, self.rng
        start = self.ref - rng.integers(30 * DAY, 10 * 365 * DAY, n)
        end = start + rng.integers(365, 6 * 365, n) * DAY
        open_ended = (end > self.ref) & (rng.random(n) < 0.6)
        status = np.where(end <= self.ref, self.choice(["ended", "cancelled"], n, p=[0.8, 0.2]), "active")
        return pl.DataFrame({
            "contract_id": _ids("V", n),
            "contact_id": self.contact_keys(n),
            "_start": start,
            "_end": np.where(open_ended, -1, end),
            "status": status,
        }).with_columns(
            start_date=_date(pl.col("_start")),
            end_date=pl.when(pl.col("_end") >= 0).then(_date(pl.col("_end"))),
        ).select("contract_id", "contact_id", "start_date", "end_date", "status")

    def invoices(self, contracts: pl.DataFrame) -> pl.DataFrame:
        n, rng = self.scale.invoices, self.rng
        pick = rng.integers(0, contracts.height, n)
        c = contracts[pick]
        start = c["start_date"].cast(pl.Int64).to_numpy() * DAY  # epoch days -> seconds
        last = np.minimum(c["end_date"].fill_null(self.as_of).cast(pl.Int64).to_numpy() * DAY, self.ref)
        when = start + (rng.random(n) * np.maximum(last - start, DAY)).astype(np.int64)
        return pl.DataFrame({
            "invoice_id": _ids("R", n),
            "contract_id": c["contract_id"],
            "contact_id": c["contact_id"],
            "invoice_date": _date(pl.Series(when)).alias("invoice_date"),
            "amount_eur": np.round(rng.lognormal(5, 0.8, n), 2),
        }).with_columns(pl.col("amount_eur").cast(pl.Decimal(12, 2)))

    # --- newsletter / consent log ------------------------------------------------------------

    def consent_events(self) -> pl.DataFrame:
        rng = self.rng
        pairs = max(int(self.scale.consent_events / 1.75), 10)  # ~1.75 events per (subject, purpose)
        contact = rng.integers(1, self.scale.contacts + 1, pairs)
        purpose = self.choice(["newsletter", "extended_analytics"], pairs, p=[0.7, 0.3])
        newsletter = purpose == "newsletter"
        channel = self.choice(["web", "email", "phone", "paper", "app"], pairs, p=[0.6, 0.15, 0.1, 0.05, 0.1])
        t0 = self.ref - rng.integers(HOUR, 6 * 365 * DAY, pairs)
        frames = []

        def stage(mask, action, at):
            frames.append(pl.DataFrame({
                "_contact": contact[mask], "purpose": purpose[mask], "action": action[mask] if
                isinstance(action, np.ndarray) else np.full(mask.sum(), action, dtype=object),
                "_at": at[mask], "channel": channel[mask],
            }))

        first = np.where(newsletter, "requested", "granted").astype(object)
        # Anomaly: 3 % of newsletter sign-ups recorded as "granted" with no double opt-in.
        no_doi = newsletter & (rng.random(pairs) < 0.03)
        first[no_doi] = "granted"
        stage(np.ones(pairs, bool), first, t0)
        confirm = newsletter & ~no_doi & (rng.random(pairs) < 0.8)
        t_conf = t0 + rng.exponential(3 * HOUR, pairs).astype(np.int64) + 60
        stage(confirm & (t_conf <= self.ref), "confirmed", t_conf)
        active = (~newsletter | no_doi | confirm)
        t_wd = t_conf + rng.integers(10 * DAY, 900 * DAY, pairs)
        withdraw = active & (rng.random(pairs) < 0.2) & (t_wd <= self.ref)
        stage(withdraw, "withdrawn", t_wd)
        # Some subjects sign up again after withdrawing.
        t_re = t_wd + rng.integers(5 * DAY, 200 * DAY, pairs)
        regrant = withdraw & (rng.random(pairs) < 0.15) & (t_re + DAY <= self.ref)
        stage(regrant, np.where(newsletter, "requested", "granted").astype(object), t_re)
        stage(regrant & newsletter, "confirmed", t_re + HOUR)
        ev = pl.concat(frames)
        # Duplicates, as exports from the newsletter tool contain them.
        ev = pl.concat([ev, ev.sample(fraction=0.01, seed=int(rng.integers(1 << 31)))])
        version = pl.lit(NOTICE_VERSIONS[-1][0])
        for name, until in reversed(NOTICE_VERSIONS[:-1]):
            version = pl.when(pl.col("_at") < int(dt.datetime.fromisoformat(until).replace(tzinfo=UTC).timestamp())
                              ).then(pl.lit(name)).otherwise(version)
        missing_version = rng.random(ev.height) < 0.02
        ev = ev.with_columns(notice_version=pl.when(pl.Series(missing_version)).then(None).otherwise(version))
        # Out of order, as the source writes them.
        ev = ev.sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))
        return ev.with_columns(
            event_id=_ids("E", ev.height),
            contact_id=_key("C", ev["_contact"]),
            occurred_at=_iso(pl.col("_at")),
        ).select("event_id", "contact_id", "purpose", "action", "occurred_at", "notice_version", "channel")

    # --- privacy register --------------------------------------------------------------------

    def requests(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        n, rng, ref = self.scale.requests, self.rng, self.ref
        received = ref - rng.integers(0, 730 * DAY, n)
        age_days = (ref - received) / DAY
        old_status = self.choice(["completed", "rejected", "withdrawn", "duplicate"], n, p=[0.85, 0.08, 0.04, 0.03])
        new_status = self.choice(["in_progress", "received", "unverified", "paused", "completed"], n,
                                 p=[0.6, 0.15, 0.1, 0.1, 0.05])
        status = np.where(age_days > 45, old_status, new_status)
        took = np.where(rng.random(n) < 0.9, rng.integers(2, 28, n), rng.integers(33, 50, n)) * DAY
        closed = np.where(np.isin(status, ["completed", "rejected", "withdrawn", "duplicate"]),
                          np.minimum(received + took, ref), -1)
        verified = np.where(status == "unverified", -1, received + rng.integers(HOUR, 5 * DAY, n))
        extended = (rng.random(n) < 0.08) & (status != "unverified")
        bulk = pl.DataFrame({
            "request_id": _ids("DSR", n),
            "contact_id": self.contact_keys(n),
            "right": self.choice(["access", "erasure", "objection", "rectification", "restriction", "portability"],
                                 n, p=[0.45, 0.25, 0.1, 0.1, 0.05, 0.05]),
            "channel": self.choice(["email", "web_form", "letter", "phone", "in_person"], n,
                                   p=[0.5, 0.3, 0.1, 0.07, 0.03]),
            "_received": received,
            "_verified": np.minimum(verified, ref),
            "_extension": np.where(extended, np.minimum(received + 20 * DAY, ref), -1),
            "status": status,
            "_closed": closed,
            "assignee": self.choice(STAFF, n),
        }).with_columns(
            extension_reason=pl.when(pl.col("_extension") >= 0).then(pl.lit("Komplexität: mehrere Systeme")),
            outcome=pl.when(pl.col("_closed") >= 0).then(pl.col("status")),
        )
        bulk = pl.concat([bulk, self._request_scenarios()], how="diagonal_relaxed")
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
            "reason": self.choice(["identity_proof", "clarification"], paused.height),
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

    def _request_scenarios(self) -> pl.DataFrame:
        """Requests in every state the work queue must show, placed relative to ``as_of``."""
        as_of, ref = self.as_of, self.ref

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

    def incidents(self) -> pl.DataFrame:
        n, rng, ref = self.scale.incidents, self.rng, self.ref
        detected = ref - rng.integers(10 * DAY, 3 * 365 * DAY, n)
        aware = detected + rng.exponential(10 * HOUR, n).astype(np.int64)
        risk = self.choice(["none", "risk", "high"], n, p=[0.45, 0.4, 0.15])
        not_pd = rng.random(n) < 0.1
        late = rng.random(n) < 0.15
        notified = aware + np.where(late, rng.integers(75 * HOUR, 150 * HOUR, n), rng.integers(5 * HOUR, 70 * HOUR, n))
        notified = np.where((risk == "none") | not_pd, -1, notified)
        high = (risk == "high") & ~not_pd
        exempt = high & (rng.random(n) < 0.3)
        closing = aware + rng.integers(7 * DAY, 60 * DAY, n)
        bulk = pl.DataFrame({
            "incident_id": _ids("INC", n),
            "title": self.choice(["Fehlversand E-Mail", "Verlorener Laptop", "Phishing-Zugang", "Ransomware-Versuch",
                                  "Falsch konfigurierte Freigabe", "Ausfall Ticketsystem"], n),
            "type": self.choice(["confidentiality", "integrity", "availability"], n, p=[0.6, 0.15, 0.25]),
            "_detected": detected, "_aware": np.where(not_pd, -1, aware),
            "personal_data": ~not_pd,
            "risk": _text(np.where(not_pd, None, risk)),
            "subjects_affected": np.where(not_pd, 0, rng.integers(1, 2_000, n)),
            "_notified": notified,
            "delay_reason": _text(np.where(late & (notified >= 0) & (rng.random(n) < 0.6),
                                           "Forensik abgewartet", None)),
            "_informed": np.where(high & ~exempt, aware + rng.integers(24 * HOUR, 120 * HOUR, n), -1),
            "art34_exemption": _text(np.where(exempt, self.choice(["a", "b", "c"], n), None)),
            "_exempt": np.where(exempt, aware + rng.integers(2 * HOUR, 48 * HOUR, n), -1),
            # Closed once the closing date has passed; until then contained (R2.4b: closed has closed_at).
            "status": np.where(not_pd, "not_personal_data",
                               np.where(closing <= ref, "closed", "contained")),
            "_contained": aware + rng.integers(HOUR, 72 * HOUR, n),
            "_closed": closing,
        })
        return pl.concat([bulk, self._incident_scenarios()], how="diagonal_relaxed").with_columns(
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

    def _incident_scenarios(self) -> pl.DataFrame:
        """Breaches in every clock state, placed relative to the reference moment."""
        ref = self.ref
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

    def incident_records(self, incidents: pl.DataFrame, tickets: pl.DataFrame) -> pl.DataFrame:
        """Each incident still under investigation concerns a few long-closed tickets (R3.3 holds them)."""
        open_ids = incidents.filter(~pl.col("status").is_in(["closed", "not_personal_data"]))["incident_id"]
        old_closed = tickets.filter(pl.col("closed_at") < (self.as_of - dt.timedelta(days=200)).isoformat())
        picked = old_closed.sample(min(3 * open_ids.len(), old_closed.height), seed=int(self.rng.integers(1 << 31)))
        n = picked.height
        return pl.DataFrame({
            "link_id": _ids("IL", n),
            "incident_id": open_ids.gather(np.arange(n) % max(open_ids.len(), 1)) if n else [],
            "record_type": ["ticket"] * n,
            "record_id": picked["ticket_id"],
        }, schema={"link_id": pl.String, "incident_id": pl.String, "record_type": pl.String, "record_id": pl.String})

    def holds(self, tickets: pl.DataFrame, invoices: pl.DataFrame, requests: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng
        k = max(self.scale.tickets // 400, 5)
        old_closed = tickets.filter(pl.col("closed_at") < (self.as_of - dt.timedelta(days=200)).isoformat())
        t = old_closed.sample(min(k, old_closed.height), seed=int(rng.integers(1 << 31)))
        inv = invoices.sample(max(self.scale.invoices // 2000, 3), seed=int(rng.integers(1 << 31)))
        erasure = requests.filter(pl.col("right") == "erasure").head(max(self.scale.requests // 50, 2))
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
        set_at = self.ref - rng.integers(10 * DAY, 400 * DAY, n)
        released = np.where(rng.random(n) < 0.15, set_at + 5 * DAY, -1)
        return h.with_columns(
            hold_id=_ids("H", n),
            set_by=pl.Series(self.choice(["DSB Schneider", "Rechtsabteilung", "Buchhaltung"], n)),
            set_at=_iso(pl.Series(set_at)),
            review_date=_date(pl.Series(set_at + 180 * DAY)),
            released_at=pl.when(pl.Series(released) >= 0).then(_iso(pl.Series(released))),
        ).select("hold_id", "record_type", "record_id", "kind", "reason", "set_by", "set_at", "review_date",
                 "released_at")


    def situations(self) -> dict[str, list[dict]]:
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
        as_of = self.as_of

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


def _erased(requests: pl.DataFrame, tickets: pl.DataFrame,
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


def _deletion_tasks(requests: pl.DataFrame) -> pl.DataFrame:
    """Each system's confirmation that it carried out a completed erasure request (issue 36.2): the
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


def generate(out_dir: Path, seed: int = 42, as_of: dt.date | None = None, scale: str = "small") -> dict[str, int]:
    """Write the demo stores below ``out_dir``; returns rows written per table."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    # Without an explicit date the scenarios sit around "now" (live 72-hour clocks in the demo);
    # with one, around noon of that day, so the same seed and date give the same files.
    now = dt.datetime.now(UTC)
    reference = now if as_of is None else dt.datetime.combine(as_of, dt.time(12), BERLIN)
    as_of = as_of or now.astimezone(BERLIN).date()
    g = _Gen(seed, as_of, reference, SCALES[scale])
    contacts = g.contacts()
    tickets = g.tickets()
    contracts = g.contracts()
    invoices = g.invoices(contracts)
    requests, pauses, req_events = g.requests()
    tickets, contracts = _erased(requests, tickets, contracts)
    incidents = g.incidents()
    tables = {
        "helpdesk/contacts.csv": contacts,
        "helpdesk/tickets.csv": tickets,
        "helpdesk/attachments.csv": g.attachments().filter(pl.col("ticket_id").is_in(tickets["ticket_id"].implode())),
        "billing/contracts.parquet": contracts,
        "billing/invoices.parquet": invoices,
        "newsletter/consent_events.jsonl": g.consent_events(),
        "privacy_register/requests.jsonl": requests,
        "privacy_register/request_pauses.jsonl": pauses,
        "privacy_register/request_events.jsonl": req_events,
        "privacy_register/incidents.jsonl": incidents,
        "privacy_register/incident_records.jsonl": g.incident_records(incidents, tickets),
        "privacy_register/holds.jsonl": g.holds(tickets, invoices, requests),
    }
    for rel, rows in g.situations().items():
        frame = tables[rel]
        tables[rel] = pl.concat([frame, pl.DataFrame(rows)], how="diagonal_relaxed").select(frame.columns)
    tables["privacy_register/deletion_tasks.jsonl"] = _deletion_tasks(tables["privacy_register/requests.jsonl"])
    counts = {}
    for rel, df in tables.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        if rel.endswith(".csv"):
            df.write_csv(tmp)
        elif rel.endswith(".parquet"):
            df.write_parquet(tmp)
        else:
            df.write_ndjson(tmp)
        tmp.replace(path)
        (path.parent / DEMO_MARKER).write_text("generated by `python -m dashboard demo`: synthetic data\n",
                                               encoding="utf-8")
        counts[rel] = df.height
    return counts
