"""The newsletter tool's consent log (JSON Lines)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dashboard.deadlines import UTC
from dashboard.demo.common import DAY, HOUR, NOTICE_VERSIONS, _ids, _iso, _key


def consent_events(g) -> pl.DataFrame:
    rng = g.rng
    pairs = max(int(g.scale.consent_events / 1.75), 10)  # ~1.75 events per (subject, purpose)
    contact = rng.integers(1, g.scale.contacts + 1, pairs)
    purpose = g.choice(["newsletter", "extended_analytics"], pairs, p=[0.7, 0.3])
    newsletter = purpose == "newsletter"
    channel = g.choice(["web", "email", "phone", "paper", "app"], pairs, p=[0.6, 0.15, 0.1, 0.05, 0.1])
    t0 = g.ref - rng.integers(HOUR, 6 * 365 * DAY, pairs)
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
    stage(confirm & (t_conf <= g.ref), "confirmed", t_conf)
    active = (~newsletter | no_doi | confirm)
    t_wd = t_conf + rng.integers(10 * DAY, 900 * DAY, pairs)
    withdraw = active & (rng.random(pairs) < 0.2) & (t_wd <= g.ref)
    stage(withdraw, "withdrawn", t_wd)
    # Some subjects sign up again after withdrawing.
    t_re = t_wd + rng.integers(5 * DAY, 200 * DAY, pairs)
    regrant = withdraw & (rng.random(pairs) < 0.15) & (t_re + DAY <= g.ref)
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
