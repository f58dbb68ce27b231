"""Incremental refresh (dashboard.build_cache): tables whose source files did not change come from the
build cache, and the snapshot is the one a full build publishes from the same files."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import build_cache
from dashboard.cli import main
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
def stores(demo_data_dir, tmp_path, monkeypatch) -> Path:
    """A data dir of its own with a copy of the demo stores (CSV, Parquet and JSON Lines), whose small
    tables are kept in the cache too (in production only tables of build_cache.MIN_ROWS rows or more)."""
    monkeypatch.setattr(build_cache, "MIN_ROWS", 0)
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    return tmp_path


def _cache(base: Path) -> Path:
    return base / "state" / "build-cache"


def test_unchanged_tables_come_from_the_cache_and_the_snapshot_equals_a_full_build(stores):
    """Unchanged files: every table from the cache, the same snapshot. Then one file changed and one cache
    entry damaged: those two tables are read again, the rest comes from the cache, and the snapshot is
    the one a full build publishes; the cache keeps one private entry per table."""
    first = build_snapshot(data_dir=stores)
    assert first.reused == ()
    again = build_snapshot(data_dir=stores)
    assert again.reused == EVERY_TABLE
    assert again.tables == first.tables
    assert_same_snapshot(first.path, again.path)

    tickets = stores / "demo" / "helpdesk" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-3]) + "not;a;ticket\n", encoding="utf-8")  # fewer rows, one broken
    next(_cache(stores).glob("contracts-*.duckdb")).write_bytes(b"not a database")
    incremental = build_snapshot(data_dir=stores)
    assert set(incremental.reused) == set(EVERY_TABLE) - {"tickets", "contracts"}
    full = build_snapshot(data_dir=stores, full=True)
    assert full.reused == ()
    assert incremental.tables == full.tables
    assert incremental.tables["tickets"][2] >= 1  # the broken line is rejected, not lost
    assert_same_snapshot(incremental.path, full.path)

    entries = sorted(p.name for p in _cache(stores).iterdir())
    assert len(entries) == len(EVERY_TABLE)  # the old tickets entry is gone
    assert sum(e.startswith("tickets-") for e in entries) == 1
    assert stat.S_IMODE(_cache(stores).stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in _cache(stores).iterdir()} == {0o600}


def test_same_size_and_time_but_other_bytes_is_a_change(stores):
    build_snapshot(data_dir=stores)
    requests = stores / "demo" / "privacy_register" / "requests.jsonl"
    before = requests.stat()
    text = requests.read_text(encoding="utf-8")
    at = text.index('"assignee":"') + len('"assignee":"')  # one letter of one name, same length
    swapped = text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1:]
    requests.write_text(swapped, encoding="utf-8")
    os.utime(requests, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "requests" not in build_snapshot(data_dir=stores).reused


def test_snapshot_full_on_the_command_line(stores, use_data_dir, capsys):
    build_snapshot(data_dir=stores)
    use_data_dir(stores)
    assert main(["snapshot"]) == 0
    assert "taken from the build cache: contacts, tickets" in capsys.readouterr().out
    assert main(["snapshot", "--full"]) == 0
    assert "build cache" not in capsys.readouterr().out
