"""Contracts and billing (Parquet export)."""

from __future__ import annotations

import numpy as np
import polars as pl

from dashboard.demo.common import DAY, _date, _ids


def contracts(g) -> pl.DataFrame:
    n, rng = g.scale.contracts, g.rng
    start = g.ref - rng.integers(30 * DAY, 10 * 365 * DAY, n)
    end = start + rng.integers(365, 6 * 365, n) * DAY
    open_ended = (end > g.ref) & (rng.random(n) < 0.6)
    status = np.where(end <= g.ref, g.choice(["ended", "cancelled"], n, p=[0.8, 0.2]), "active")
    return pl.DataFrame({
        "contract_id": _ids("V", n),
        "contact_id": g.contact_keys(n),
        "_start": start,
        "_end": np.where(open_ended, -1, end),
        "status": status,
    }).with_columns(
        start_date=_date(pl.col("_start")),
        end_date=pl.when(pl.col("_end") >= 0).then(_date(pl.col("_end"))),
    ).select("contract_id", "contact_id", "start_date", "end_date", "status")


def invoices(g, contracts: pl.DataFrame) -> pl.DataFrame:
    n, rng = g.scale.invoices, g.rng
    pick = rng.integers(0, contracts.height, n)
    c = contracts[pick]
    start = c["start_date"].cast(pl.Int64).to_numpy() * DAY  # epoch days -> seconds
    last = np.minimum(c["end_date"].fill_null(g.as_of).cast(pl.Int64).to_numpy() * DAY, g.ref)
    when = start + (rng.random(n) * np.maximum(last - start, DAY)).astype(np.int64)
    return pl.DataFrame({
        "invoice_id": _ids("R", n),
        "contract_id": c["contract_id"],
        "contact_id": c["contact_id"],
        "invoice_date": _date(pl.Series(when)).alias("invoice_date"),
        "amount_eur": np.round(rng.lognormal(5, 0.8, n), 2),
    }).with_columns(pl.col("amount_eur").cast(pl.Decimal(12, 2)))
