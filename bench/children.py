"""What the bench measures in a fresh process each: ``python -m bench.children NAME ARG...``.

Each child prints its result as one JSON line, then its own peak RSS (``__RSS__ <kB>``), which
``bench.run`` reads. Fresh processes, so one measurement's memory and caches never flatter the next.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb


def generate(out: str, as_of: str, scale: str) -> dict:
    """The demo stores of one profile; rows written per file."""
    from dashboard.demo import generate as write

    return write(Path(out), as_of=dt.date.fromisoformat(as_of), scale=scale)


def build(mode: str) -> dict:
    """A snapshot from DASHBOARD_DATA_DIR's sources: ``full`` reads everything, else incremental."""
    from dashboard.build import build_snapshot

    result = build_snapshot(full=mode == "full")
    return {"rows": sum(v[0] for v in result.tables.values()), "s": result.seconds, "reused": len(result.reused),
            "derived_reused": len(result.derived_reused), "unchanged": result.unchanged}


def build_from(sources: str) -> dict:
    """A snapshot from a sources file; its tickets and the tables reused from the live snapshot."""
    from dashboard.build import build_snapshot

    result = build_snapshot(Path(sources))
    return {"s": result.seconds, "rows": result.tables["tickets"][0], "copied": list(result.reused)}


def stage_tickets(sources: str) -> dict:
    """Only the reading: the tickets of a sources file staged into an in-memory DuckDB."""
    from dashboard.ingest.readers import load_sources, stage

    ts = load_sources(Path(sources))["tickets"][0]
    started = time.perf_counter()
    con = duckdb.connect()
    stage(con, ts, "_t")  # a table: rows streamed from PostgreSQL
    rows = con.sql("SELECT count(*) FROM _t").fetchall()[0][0]
    return {"rows": rows, "s": time.perf_counter() - started}


def raw_ingest(demo: str) -> float:
    """The limit: plain DuckDB ingesting the same files (CREATE TABLE AS SELECT * FROM read_...)."""
    readers = {".csv": "read_csv", ".parquet": "read_parquet", ".jsonl": "read_json"}
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(f"{tmp}/raw.duckdb")
        started = time.perf_counter()
        for f in sorted(Path(demo).glob("*/*.*")):
            if f.suffix in readers:
                con.execute(f"CREATE TABLE {f.parent.name}_{f.stem} AS SELECT * FROM {readers[f.suffix]}('{f}')")
        con.close()
        return time.perf_counter() - started


def floor(snapshots: str) -> float:
    """The least any build of today's snapshot does beyond plain ingest: its two large derived tables
    alone (retention_records, each system's part sorted, and consent_spans), timed on a copy of the live
    snapshot (its segments attached read-only: the tables are made in the copy)."""
    from dashboard import queries
    from dashboard.build import build_settings
    from dashboard.snapshot import attach_segments, current_snapshot

    live = current_snapshot(Path(snapshots))
    parts = ("build_retention_helpdesk", "build_retention_billing", "build_consent_spans")
    # The files make the two tables and nothing else; fail rather than time something else if that changes.
    made = {name for p in parts for name in re.findall(r"^(?:CREATE TABLE|INSERT INTO) (\w+)", queries.sql(p), re.M)}
    assert made == {"retention_helpdesk", "retention_billing", "consent_spans"}, made
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(live, f"{tmp}/floor.duckdb")
        con = duckdb.connect(f"{tmp}/floor.duckdb")
        attach_segments(con, live)
        build_settings(con)
        con.execute("DROP VIEW retention_records CASCADE; DROP VIEW retention_helpdesk; DROP VIEW retention_billing; "
                    "DROP VIEW consent_spans CASCADE; CHECKPOINT")
        started = time.perf_counter()
        for part in parts:
            con.execute(queries.sql(part))
        return time.perf_counter() - started


def peer(demo: str, as_of: str) -> dict:
    """The usual alternative on the same stores (bench/pandas_peer.py)."""
    from bench.pandas_peer import measure

    return measure(demo, as_of)


def change_one_percent(demo: str) -> dict:
    """A day's work in the stores: every hundredth ticket closed or reopened, a day of consent events
    appended (the newest day's events again, a day later, with new ids)."""
    import polars as pl

    tickets = Path(demo) / "helpdesk" / "tickets.csv"
    frame = pl.read_csv(tickets, infer_schema=False)
    hit = (pl.int_range(pl.len()) % 100) == 0
    reopened = hit & (pl.col("status") == "closed")
    frame = frame.with_columns(
        pl.when(reopened).then(pl.lit("open")).when(hit).then(pl.lit("closed")).otherwise(pl.col("status"))
        .alias("status"),
        pl.when(reopened).then(pl.lit(None)).when(hit).then(pl.col("opened_at")).otherwise(pl.col("closed_at"))
        .alias("closed_at"))
    frame.write_csv(tickets)
    events = Path(demo) / "newsletter" / "consent_events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    newest = max(r["occurred_at"][:10] for r in rows)
    day = [r for r in rows if r["occurred_at"].startswith(newest)]
    later = (dt.date.fromisoformat(newest) + dt.timedelta(days=1)).isoformat()
    with events.open("a", encoding="utf-8") as out:
        for i, r in enumerate(day):
            out.write(json.dumps({**r, "event_id": f"B{len(rows) + i:09d}",
                                  "occurred_at": later + r["occurred_at"][10:]}) + "\n")
    return {"tickets": int(frame.select(hit.sum()).item()), "events": len(day)}


def change_register(demo: str) -> dict:
    """An hour's work in the privacy register: ten open requests answered (closed as completed), nothing
    else changed."""
    requests = Path(demo) / "privacy_register" / "requests.jsonl"
    rows = [json.loads(line) for line in requests.read_text(encoding="utf-8").splitlines()]
    open_ones = [r for r in rows if r["status"] not in ("completed", "rejected", "withdrawn", "duplicate")][:10]
    for r in open_ones:
        r.update(status="completed", closed_at=max(r["received_at"], "2026-11-26T09:00:00Z"), outcome="completed")
    requests.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return {"requests": len(open_ones)}


# The moment and the duration of a build are the only things two builds of the same files may differ in.
BUILD_MOMENT = {"snapshot_meta": ("built_at", "build_seconds")}


def same_as_full() -> dict:
    """The live snapshot (a refresh) against a full build of DASHBOARD_DATA_DIR's sources, published
    after it: every table compared in DuckDB with EXCEPT ALL both ways (the rows one has and the other
    has not, duplicates counted), the build's moment and duration left out; the tables that differ."""
    from dashboard import paths
    from dashboard.build import build_snapshot
    from dashboard.snapshot import attach_segments, current_snapshot
    from dashboard.sqltext import identifier, literal

    refreshed = current_snapshot(paths.snapshots_dir())
    full = build_snapshot(full=True).path
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    for name, snapshot in (("a", refreshed), ("b", full)):
        con.execute(f"ATTACH {literal(str(snapshot))} AS {name} (READ_ONLY)")
        attach_segments(con, snapshot, name)

    def columns(db: str) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in con.sql(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                "AND schema_name = 'main' ORDER BY table_name, column_index", params=[db]).fetchall():
            if column not in BUILD_MOMENT.get(table, ()):
                found.setdefault(table, []).append((column, kind))
        return found

    left, right = columns("a"), columns("b")
    differing = {}
    for table in sorted(left.keys() | right.keys()):
        if left.get(table) != right.get(table):
            differing[table] = "columns"
            continue
        cols = ", ".join(identifier(c) for c, _ in left[table])
        name = identifier(table)
        rows = sum(con.sql(f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{name} EXCEPT ALL "
                           f"SELECT {cols} FROM {y}.{name})").fetchall()[0][0] for x, y in (("a", "b"), ("b", "a")))
        if rows:
            differing[table] = rows
    return {"tables": len(left), "differing": differing}


CHILDREN = {"generate": generate, "build": build, "build_from": build_from, "stage_tickets": stage_tickets,
            "raw_ingest": raw_ingest, "floor": floor, "peer": peer, "change_one_percent": change_one_percent,
            "change_register": change_register, "same_as_full": same_as_full}


def main(argv: list[str]) -> None:
    name, *args = argv
    print(json.dumps(CHILDREN[name](*args)))
    print("__RSS__", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main(sys.argv[1:])
