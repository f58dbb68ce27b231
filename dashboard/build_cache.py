"""Incremental refresh: a canonical table whose sources did not change is not read and validated again.

After a table is read and validated, its rows (still with the source they came from, before people
are resolved and dates derived) and its rejected rows are kept in ``DATA_DIR/state/build-cache``,
under a fingerprint of everything validation depends on: this version of the app, the table's
schema, each source's settings and the *content* of each source file (SHA-256; a file copied anew
with the same bytes still counts as unchanged, one with the same size and time but other bytes
does not). The next build takes a table whose fingerprint it finds from there; everything after
validation (people, derived dates, rules) is computed afresh, so the snapshot is the one a full
build would publish. ``snapshot --full`` ignores the cache.

Only file sources are fingerprinted. PostgreSQL and the connectors are read every time: a connector
also records the consent ledger and source findings while it reads, which a copy would skip.

The cache holds personal data like a snapshot: private files, and only the current fingerprints are
kept (``prune`` after each published build).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import duckdb

from dashboard import __version__, paths
from dashboard.schema import Table
from dashboard.sources import FILE_KINDS, TableSource
from dashboard.sqltext import identifier, literal

log = logging.getLogger(__name__)
FOLDER = "build-cache"
# A smaller table is read again every time: reading and validating it takes less than keeping it
# (writing a cache entry costs a few tens of milliseconds even for a handful of rows).
MIN_ROWS = 50_000


def folder(data_dir: Path) -> Path:
    return paths.private_dir(Path(data_dir) / "state" / FOLDER)


def fingerprint(table: Table, parts: tuple[TableSource, ...], keep_source: bool, layout: int) -> str | None:
    """What the validated ``table`` depends on, hashed; None when a source cannot be fingerprinted (not
    a file, or the file is missing: reading it then says why)."""
    digest = hashlib.sha256(json.dumps([__version__, layout, repr(table), keep_source]).encode())
    for ts in parts:
        path = Path(ts.location)
        if ts.kind not in FILE_KINDS or not path.is_file():
            return None
        digest.update(json.dumps([ts.source, ts.kind, ts.location, ts.columns, ts.timezone, ts.rank,
                                  ts.is_demo()], sort_keys=True).encode())
        with open(path, "rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()[:40]


def _file(cache: Path, table: str, key: str) -> Path:
    return cache / f"{table}-{key}.duckdb"


def restore(con: duckdb.DuckDBPyConnection, cache: Path, table: Table, key: str) -> tuple[int, int, int] | None:
    """Create ``table`` and its rejected rows from the cache; returns (read, accepted, rejected), or None
    when the cache has no usable entry (a damaged one is removed and the table read as usual)."""
    path = _file(cache, table.name, key)
    if not path.is_file():
        return None
    try:
        con.execute(f"ATTACH {literal(str(path))} AS _cached (READ_ONLY)")
    except duckdb.Error as exc:
        log.warning("build cache entry for %s unreadable (%s): reading the sources", table.name, type(exc).__name__)
        path.unlink(missing_ok=True)
        return None
    try:
        counts = con.sql("SELECT rows_read, accepted, rejected FROM _cached.counts").fetchall()[0]
        con.execute(f"CREATE TABLE {identifier(table.name)} AS SELECT * FROM _cached.rows")
        con.execute("INSERT INTO rejected_rows SELECT * FROM _cached.rejects")
    finally:
        con.execute("DETACH _cached")
    return counts


def store(con: duckdb.DuckDBPyConnection, cache: Path, table: Table, key: str, counts: tuple[int, int, int]) -> None:
    """Keep the validated ``table`` and its rejected rows under ``key`` (written aside, then renamed, so a
    half-written entry is never read). A cache that cannot be written only costs the next build time.
    Tables of fewer than ``MIN_ROWS`` rows read are not kept."""
    if counts[0] < MIN_ROWS:
        return
    path = _file(cache, table.name, key)
    tmp = path.with_name(f".writing-{path.name}")
    tmp.unlink(missing_ok=True)
    try:
        con.execute(f"ATTACH {literal(str(tmp))} AS _cache_out")
        try:
            con.execute(f"CREATE TABLE _cache_out.rows AS SELECT * FROM {identifier(table.name)}")
            con.execute("CREATE TABLE _cache_out.rejects AS SELECT * FROM rejected_rows WHERE table_name = $t",
                        {"t": table.name})
            con.execute("CREATE TABLE _cache_out.counts AS SELECT $r::BIGINT AS rows_read, $a::BIGINT AS accepted, "
                        "$j::BIGINT AS rejected", {"r": counts[0], "a": counts[1], "j": counts[2]})
        finally:
            con.execute("DETACH _cache_out")
        paths.private_file(tmp)
        os.replace(tmp, path)
    except (duckdb.Error, OSError) as exc:
        log.warning("build cache for %s not written (%s)", table.name, type(exc).__name__)
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)


def prune(cache: Path, keys: dict[str, str]) -> None:
    """Remove every entry but the current fingerprint of each table (old entries hold old personal data)."""
    keep = {_file(cache, table, key).name for table, key in keys.items()}
    for entry in cache.iterdir():
        if entry.name not in keep:
            entry.unlink(missing_ok=True)
