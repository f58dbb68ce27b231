"""Incremental refresh (dashboard.build_cache): tables whose source files did not change come from the
build cache, and the snapshot is the one a full build publishes from the same files."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard.schema import TABLES
from dashboard.snapshot import build_snapshot

EVERY_TABLE = tuple(t.name for t in TABLES)
# The moment and the duration of a build are the only things two builds of the same files may differ in.
BUILD_MOMENT = {"snapshot_meta": ("built_at", "build_seconds")}


def _contents(path: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                       "ORDER BY 1").fetchall()]
        return {n: con.sql(f"SELECT * FROM {n} ORDER BY rowid").pl().drop(BUILD_MOMENT.get(n, ())) for n in names}
    finally:
        con.close()


def assert_same_snapshot(a: Path, b: Path) -> None:
    """Same tables, same columns and types, same rows (derived tables are built in parallel, so their
    row order is not part of a snapshot: rows are compared sorted)."""
    left, right = _contents(a), _contents(b)
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].schema == right[name].schema, name
        columns = [c for c, t in left[name].schema.items() if t.is_nested() is False]
        assert left[name].sort(columns, nulls_last=True).equals(right[name].sort(columns, nulls_last=True)), name


@pytest.fixture
def stores(demo_data_dir, tmp_path) -> Path:
    """A data dir of its own with a copy of the demo stores (CSV, Parquet and JSON Lines)."""
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    return tmp_path


def _cache(base: Path) -> Path:
    return base / "state" / "build-cache"


def test_unchanged_sources_are_taken_from_the_cache_and_the_snapshot_is_the_same(stores):
    first = build_snapshot(data_dir=stores)
    assert first.reused == ()
    again = build_snapshot(data_dir=stores)
    assert again.reused == EVERY_TABLE
    assert again.tables == first.tables
    assert_same_snapshot(first.path, again.path)


def test_a_changed_file_is_read_again_and_the_result_equals_a_full_build(stores):
    build_snapshot(data_dir=stores)
    tickets = stores / "demo" / "helpdesk" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-3]) + "not;a;ticket\n", encoding="utf-8")  # fewer rows, one broken
    incremental = build_snapshot(data_dir=stores)
    assert set(incremental.reused) == set(EVERY_TABLE) - {"tickets"}
    full = build_snapshot(data_dir=stores, full=True)
    assert full.reused == ()
    assert incremental.tables == full.tables
    assert incremental.tables["tickets"][2] >= 1  # the broken line is rejected, not lost
    assert_same_snapshot(incremental.path, full.path)


def test_same_size_and_time_but_other_bytes_is_a_change(stores):
    build_snapshot(data_dir=stores)
    requests = stores / "demo" / "privacy_register" / "requests.jsonl"
    before = requests.stat()
    text = requests.read_text(encoding="utf-8")
    at = text.index('"assignee":"') + len('"assignee":"')  # one letter of one name, same length
    swapped = text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1:]
    assert swapped != text and len(swapped) == len(text)
    requests.write_text(swapped, encoding="utf-8")
    os.utime(requests, ns=(before.st_atime_ns, before.st_mtime_ns))
    result = build_snapshot(data_dir=stores)
    assert "requests" not in result.reused
    assert_same_snapshot(result.path, build_snapshot(data_dir=stores, full=True).path)


def test_the_cache_keeps_only_current_entries_privately(stores):
    build_snapshot(data_dir=stores)
    contracts = stores / "demo" / "billing" / "contracts.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_parquet('{contracts}') LIMIT 5) TO '{contracts}.new' (FORMAT parquet)")
    os.replace(f"{contracts}.new", contracts)
    build_snapshot(data_dir=stores)
    entries = sorted(p.name for p in _cache(stores).iterdir())
    assert len(entries) == len(EVERY_TABLE)  # one per table: the old contracts entry is gone
    assert sum(e.startswith("contracts-") for e in entries) == 1
    assert stat.S_IMODE(_cache(stores).stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in _cache(stores).iterdir()} == {0o600}


def test_a_damaged_cache_entry_is_read_from_the_sources(stores):
    first = build_snapshot(data_dir=stores)
    entry = next(_cache(stores).glob("tickets-*.duckdb"))
    entry.write_bytes(b"not a database")
    result = build_snapshot(data_dir=stores)
    assert "tickets" not in result.reused
    assert_same_snapshot(first.path, result.path)


def test_snapshot_full_on_the_command_line(stores):
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(stores)}
    run = [sys.executable, "-m", "dashboard", "snapshot"]
    subprocess.run(run, env=env, check=True, capture_output=True)
    cached = subprocess.run(run, env=env, check=True, capture_output=True, text=True).stdout
    assert "taken from the build cache: contacts, tickets" in cached
    full = subprocess.run([*run, "--full"], env=env, check=True, capture_output=True, text=True).stdout
    assert "build cache" not in full
