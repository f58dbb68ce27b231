"""The helpdesk (CSV export): contacts, tickets and their attachments."""

from __future__ import annotations

import numpy as np
import polars as pl

from dashboard.demo.common import DAY, _ids, _iso, _key


def contacts(g) -> pl.DataFrame:
    n, f = g.scale.contacts, g.faker
    firsts = np.array([f.first_name() for _ in range(400)])
    lasts = np.array([f.last_name() for _ in range(600)])
    streets = np.array([f.street_name() for _ in range(300)])
    places = [(f.postcode(), f.city()) for _ in range(300)]
    fi, li, si, pi = (g.rng.integers(0, k, n) for k in (len(firsts), len(lasts), len(streets), len(places)))
    first, last = firsts[fi], lasts[li]
    df = pl.DataFrame({
        "contact_id": _ids("C", n),
        "first_name": first,
        "last_name": last,
        "street": np.char.add(np.char.add(streets[si], " "), g.rng.integers(1, 120, n).astype(str)),
        "postal_code": np.array([p[0] for p in places])[pi],
        "city": np.array([p[1] for p in places])[pi],
        "phone": np.char.add("+49 6", g.rng.integers(10_000_000, 99_999_999, n).astype(str)),
        "_created": g.ref - g.rng.integers(30 * DAY, 9 * 365 * DAY, n),
    })
    local = (
        pl.col("first_name").str.to_lowercase() + "." + pl.col("last_name").str.to_lowercase()
        + pl.int_range(pl.len()).cast(pl.String)
    ).str.replace_all(r"[^a-z0-9.]", "")
    domains = pl.Series(g.choice(["beispiel.de", "mail.example", "firma-demo.de", "web.example"], n))
    return df.with_columns(
        email=local + "@" + domains,
        created_at=_iso(pl.col("_created")),
    ).drop("_created")


def tickets(g) -> pl.DataFrame:
    n, rng = g.scale.tickets, g.rng
    # Most tickets are recent; a backlog tail of older ones was never purged.
    age = np.where(rng.random(n) < 0.85, rng.integers(0, 300 * DAY, n), rng.integers(300 * DAY, 1500 * DAY, n))
    opened = g.ref - age
    closed = opened + (rng.exponential(4 * DAY, n) + 600).astype(np.int64)
    is_closed = closed <= g.ref
    status = np.where(is_closed, "closed", g.choice(["open", "pending"], n, p=[0.7, 0.3]))
    return pl.DataFrame({
        "ticket_id": _ids("T", n),
        "contact_id": g.contact_keys(n),
        "_opened": opened,
        "_closed": np.where(is_closed, closed, -1),
        "status": status,
        "category": g.choice(["hardware", "software", "network", "security", "account", "other"], n,
                                p=[0.25, 0.3, 0.2, 0.08, 0.12, 0.05]),
        "message_count": 1 + rng.poisson(4, n),
    }).with_columns(
        opened_at=_iso(pl.col("_opened")),
        closed_at=pl.when(pl.col("_closed") >= 0).then(_iso(pl.col("_closed"))),
    ).select("ticket_id", "contact_id", "opened_at", "closed_at", "status", "category", "message_count")


def attachments(g) -> pl.DataFrame:
    n = g.scale.tickets // 2
    kind = g.choice(["log_file", "configuration", "screenshot"], n, p=[0.5, 0.2, 0.3])
    return pl.DataFrame({
        "attachment_id": _ids("A", n),
        "ticket_id": _key("T", g.rng.integers(1, g.scale.tickets + 1, n)),
        "kind": kind,
        "size_bytes": g.rng.lognormal(11, 1.5, n).astype(np.int64) + 200,
    })
