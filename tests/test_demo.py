"""The demo generator: same seed and date, same files, and the same files it wrote before it was split
per store and scenario (so the split provably changed nothing)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl

from dashboard.demo import generate

AS_OF = dt.date(2026, 12, 1)
# sha256 of each file's content (text files as written; Parquet as its rows in CSV) for seed 42, small.
PINNED = {
    "billing/contracts.parquet": "4c051c20c0b726113439689ae96e7f2befc330716d31dcc0e2a5f1f2eecc59a0",
    "billing/invoices.parquet": "748fe94c19d670a072b8d3545b7edeea8e51e696344bbec3b9298457440fa510",
    "helpdesk/attachments.csv": "6a1fc668d7d7bb3fefe1e1a20e9e4868f288790bbaf7cc9551d652466aca7c83",
    "helpdesk/contacts.csv": "c8d7e3c6c6e5661aa11e95d925e7c8a34a00747b5e48f61f82e37f9578ec91b4",
    "helpdesk/tickets.csv": "38cf5833792276477c25925ace612321d2d99a4f5aad8d4e4e0477f6c93964cb",
    "newsletter/consent_events.jsonl": "1d76f7c8cb440fcbb31fa8bf60db99e1bc1335422a4bc07a4cf7236f0d12b51f",
    "privacy_register/deletion_tasks.jsonl": "be461f78e46d5530137f6a1cc781f3d552a3abe43b09ed4eb0b3a1db1ca8397d",
    "privacy_register/holds.jsonl": "0b259782bf692ff4a2abc03bae410353076a409a7278ececfc900f7a606e6a2c",
    "privacy_register/incident_records.jsonl": "366e40ab1b178fbc0a1fefaec8c158c86b5b7767648558fce6d6e16c4283919b",
    "privacy_register/incidents.jsonl": "96ce4b487d7a93fc91e63d0e08f0be442fe2d45019e3212aad53ff27cefff848",
    "privacy_register/request_events.jsonl": "38a85a9748c994d69069e628182586f47751e98afb36e8acdfa105860e952af7",
    "privacy_register/request_pauses.jsonl": "8c3a7964e2164e0f8384db300b2abf3bfe93c68b0f0889c2e60a9a8cdb5986c4",
    "privacy_register/requests.jsonl": "ed6251da5af4bf7bd00859f8c6f85eb66c8f56c6c81ae8720919825615b11571",
}


def _digest(path: Path) -> str:
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
        return hashlib.sha256(frame.select(pl.all().cast(pl.String)).write_csv().encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in sorted(folder.rglob("*.*")) if p.suffix != ".txt"
            and not p.name.startswith(".")}


def test_same_seed_and_date_write_the_same_files(tmp_path):
    generate(tmp_path / "a", seed=42, as_of=AS_OF)
    generate(tmp_path / "b", seed=42, as_of=AS_OF)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    generate(tmp_path / "c", seed=7, as_of=AS_OF)
    assert _files(tmp_path / "c") != _files(tmp_path / "a")


def test_the_generator_writes_what_it_wrote_before(tmp_path):
    generate(tmp_path, seed=42, as_of=AS_OF)
    assert _files(tmp_path) == PINNED
