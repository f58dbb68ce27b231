"""What every store's generator shares: the profiles, key and time helpers, and the seeded state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from faker import Faker

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


class Generator:
    """The seeded state every store's generator draws from, in a fixed order (same seed, same files)."""

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
