"""One snapshot build: an orchestrator over ingest and the rules.

load (each canonical table from its sources, staged and validated, or reused from the live snapshot when
its fingerprint is unchanged: ``reuse``), ``people`` (one person across systems; what needs every
source read), ``derive`` (the rules' dates and the query tables), then ``dashboard.snapshot`` publishes.
A build records what it did in ``snapshot_meta`` and ``snapshot_tables``. The app never imports this
package: its refresh button runs ``python -m dashboard snapshot`` in a child process
(``dashboard.refresh``), so a build's memory and failure stay out of the server.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard import __version__, history, paths, queries
from dashboard.build import reuse
from dashboard.build.derive import derive
from dashboard.build.people import erasure_proofs, keeps_source, register_findings, resolve_people
from dashboard.build.segments import TABLES as SEGMENT_TABLES
from dashboard.build.segments import Segments
from dashboard.build.validate import validate
from dashboard.errors import DashboardError, first_line
from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.readers import is_demo, load_sources, stage
from dashboard.ingest.staging import writing_failed
from dashboard.policy import Policy, load_policy
from dashboard.schema import TABLES, Table
from dashboard.snapshot import (
    LAYOUT,
    PREFIX,
    build_lock,
    current_snapshot,
    discard,
    prune,
    publish,
    record_check,
    snapshot_problem,
)
from dashboard.sqltext import BERLIN_MACROS, identifier, literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    path: Path
    tables: dict[str, tuple[int, int, int]]  # table -> (read, accepted, rejected)
    seconds: float
    reused: tuple[str, ...] = ()  # tables reused from the live snapshot: their sources had not changed
    derived_reused: tuple[str, ...] = ()  # derived tables reused: nothing they are made from had changed
    unchanged: bool = False  # nothing had changed: the live snapshot stays, its sources checked now


class BuildError(DashboardError, RuntimeError):
    """The build failed for a reason other than a source (disk, memory); nothing was published."""

    label = "errors.build"


# What DuckDB may hold in memory during a build; beyond it, sorts, joins and staging tables spill to a
# folder beside the temporary file (removed with it). Unlimited, DuckDB took 5.1 GB for the large profile
# (33M rows) next to the running app; at 2 GB the same build takes as long and peaks at 2.2 GB.
DEFAULT_BUILD_MEMORY = "2GB"


def build_memory_limit() -> str:
    """DuckDB's memory limit for a build: DASHBOARD_BUILD_MEMORY (e.g. "4GB"), else DEFAULT_BUILD_MEMORY."""
    return os.environ.get("DASHBOARD_BUILD_MEMORY", "").strip() or DEFAULT_BUILD_MEMORY


def build_settings(con: duckdb.DuckDBPyConnection) -> None:
    """The settings every build runs under (bench.run's floor times the derived tables under them too)."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute(BERLIN_MACROS)  # stored in the snapshot: the build's SQL and the page queries use them
    con.execute(f"SET memory_limit = {literal(build_memory_limit())}")
    # One checkpoint, at the end: DuckDB's automatic ones (each 16 MB of log) wrote out the tables
    # loaded so far in the middle of the derivation, twice, about 3 s each for the large profile.
    con.execute("SET checkpoint_threshold = '1TB'")


def build_snapshot(
    sources_path: Path | None = None,
    policy: Policy | None = None,
    data_dir: Path | None = None,
    keep: int = 3,
    progress: Callable[[int], None] | None = None,
    full: bool = False,
) -> BuildResult:
    """Build a snapshot from the configured sources and publish it atomically; ``progress`` hears the
    percentage done (per table read, then deriving and publishing). A table whose source files did not
    change is reused from the live snapshot (``dashboard.build.reuse``; a large one's segment attached as it
    is: ``dashboard.build.segments``) unless ``full``."""
    progress = progress or (lambda _pct: None)
    started = time.monotonic()
    policy = policy or load_policy()
    base = Path(data_dir or paths.data_dir())
    folder = paths.private_dir(base / "snapshots")
    table_sources = load_sources(sources_path, base)
    built_at = dt.datetime.now(dt.UTC)
    version = built_at.strftime("%Y%m%dT%H%M%S%fZ")
    reuse.remove_old_cache(base)
    with build_lock(folder):
        tmp = folder / f".building-{version}.duckdb"
        final = folder / f"{PREFIX}{version}.duckdb"
        live = current_snapshot(folder)
        keys = fingerprints(table_sources, policy)
        derived = reuse.derived_keys(keys, LAYOUT)
        recorded = {} if full else reuse.recorded(live)  # what the live snapshot was built from
        # Nothing changed and the live snapshot is one this version reads: it stays.
        if recorded and snapshot_problem(live) is None and reuse.nothing_changed(keys, recorded):
            record_check(folder, live, built_at)  # the sidebar and `status` say the sources were asked now
            progress(100)
            seconds = time.monotonic() - started
            log.info("sources unchanged: %s stays live (checked in %.1f s)", live.name, seconds)
            return BuildResult(live, _counts(live), seconds, tuple(k for k in keys if k != reuse.POLICY_KEY),
                               unchanged=True)
        try:
            loaded = _build_into(tmp, table_sources, policy, built_at, started, progress,
                                 None if full else live, live, keys | derived, recorded)
            publish(folder, tmp, final, loaded.segments)
        except BaseException as exc:
            discard(folder, tmp, final)
            if isinstance(exc, duckdb.Error | OSError):  # e.g. the disk filled up: say so in one line
                hint = (f" (the build may use {build_memory_limit()}: set DASHBOARD_BUILD_MEMORY higher)"
                        if isinstance(exc, duckdb.OutOfMemoryException) else "")
                raise BuildError(f"snapshot build failed: {first_line(exc, typed=True)}{hint}; "
                                 "the previous snapshot stays live") from exc
            raise
        prune(folder, keep, final)
    log.info("published after %.1f s", time.monotonic() - started)
    history.record_build(final, base, policy)
    seconds = time.monotonic() - started
    log.info("snapshot %s published in %.1f s", final.name, seconds)
    return BuildResult(final, loaded.counts, seconds, loaded.reused, loaded.derived_reused)


def fingerprints(table_sources: dict[str, tuple[TableSource, ...]], policy: Policy) -> dict[str, str | None]:
    """Each fed table's fingerprint (``reuse.fingerprint``; None: read every time) and the policy's."""
    keys: dict[str, str | None] = {reuse.POLICY_KEY: reuse.policy_key(policy)}

    def key(table: Table) -> str | None:
        parts = table_sources[table.name]
        keep_source = keeps_source(table.name, table_sources)
        # A table whose contact ids become merged people's is not in the live snapshot as read.
        merged_ids = keep_source and len(table_sources["contacts"]) > 1
        return None if merged_ids else reuse.fingerprint(table, parts, keep_source, LAYOUT)

    # The sources are asked side by side: hashing a file and waiting for a database both release the GIL
    # (2.1 GB of large-profile files: 1.65 s one after another, about half on two cores).
    fed = [table for table in TABLES if table_sources.get(table.name)]
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        keys |= dict(zip((table.name for table in fed), pool.map(key, fed), strict=True))
    return keys


def _counts(snapshot: Path) -> dict[str, tuple[int, int, int]]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return {name: (read, accepted, rejected) for name, read, accepted, rejected in con.sql(
            "SELECT table_name, rows_read, accepted, rejected FROM snapshot_tables").fetchall()}
    finally:
        con.close()


def _build_into(path: Path, table_sources: dict[str, tuple[TableSource, ...]], policy: Policy,
                built_at: dt.datetime, started: float, progress: Callable[[int], None],
                previous: Path | None, live: Path | None, keys: dict[str, str | None],
                recorded: dict[str, str]) -> Loaded:
    """Build into ``path``; ``previous``: the snapshot to copy unchanged tables from (None: read every
    source), ``live``: the snapshot whose memory of erasure subjects carries on (also on a full build),
    ``keys``: the fingerprints of this build's tables, derived groups and policy, ``recorded``: those
    ``previous`` recorded."""
    con = duckdb.connect(str(path))
    try:
        build_settings(con)
        con.execute(queries.sql("build_layout"))  # the snapshot's own tables
        segments = Segments(con, path.parent)
        if not reuse.attach_previous(con, previous):
            recorded = {}
        try:
            loaded = load_tables(con, table_sources, started, progress, keys, recorded, segments)
        finally:
            reuse.detach_previous(con)  # erasure_proofs reads the live snapshot's memory on its own
        reuse.record(con, keys)
        counts = loaded.counts
        resolve_people(con, table_sources)
        register_findings(con, table_sources, policy)
        erasure_proofs(con, live)
        unchanged = reuse.unchanged_derived(keys, recorded)
        if unchanged and not reuse.attach_previous(con, previous):
            unchanged = frozenset()
        try:
            loaded.derived_reused = derive(con, policy, segments, keys, unchanged)
        finally:
            reuse.detach_previous(con)
        progress(90)
        log.info("derived dates, retention and consent tables: %.1f s since start", time.monotonic() - started)
        _record_build(con, table_sources, counts, policy, built_at, started)
        con.execute("CHECKPOINT")
        loaded.segments = segments.finish()
    finally:
        con.close()
    return loaded


@dataclass
class Loaded:
    """What loading the canonical tables did: counts per table, the tables reused from the live snapshot."""

    counts: dict[str, tuple[int, int, int]]
    reused: tuple[str, ...]
    derived_reused: tuple[str, ...] = ()
    segments: dict[Path, Path] = field(default_factory=dict)  # the segments written: built file -> final name


def load_tables(con, table_sources: dict[str, tuple[TableSource, ...]], started: float,
                progress: Callable[[int], None], keys: dict[str, str | None], recorded: dict[str, str],
                segments: Segments) -> Loaded:
    """Every canonical table from its sources, validated, or reused from the live snapshot (attached by
    ``reuse.attach_previous``) when its fingerprint in ``keys`` is the one ``recorded`` there (a table
    in a segment: the segment attached as it is); (read, accepted, rejected) per table."""
    loaded = Loaded({}, ())
    for table in TABLES:
        _load_table(con, table, table_sources, recorded, keys.get(table.name), loaded, segments)
        log.info("%s: %d rows%s, %.1f s since start", table.name, loaded.counts[table.name][0],
                 " (unchanged: reused)" if table.name in loaded.reused else "", time.monotonic() - started)
        progress(5 + 75 * len(loaded.counts) // len(TABLES))
    return loaded


def _load_table(con, table: Table, table_sources: dict[str, tuple[TableSource, ...]], recorded: dict[str, str],
                key: str | None, loaded: Loaded, segments: Segments) -> None:
    parts = table_sources.get(table.name, ())
    if not parts:  # an optional table no source feeds: present, empty
        columns = ", ".join(f"{identifier(c.name)} {c.type}" for c in table.columns)
        con.execute(f"CREATE TABLE {identifier(table.name)} ({columns})")
        loaded.counts[table.name] = (0, 0, 0)
        return
    keep_source = keeps_source(table.name, table_sources)
    # A large table the build does not rewrite (its contact ids stay as read) lives in a segment.
    in_segment = bool(key) and table.name in SEGMENT_TABLES and not keep_source
    if key and recorded.get(table.name) == key:
        if not in_segment:
            loaded.counts[table.name] = reuse.copy_table(con, table, parts, keep_source)
            loaded.reused += (table.name,)
            return
        if segments.attach(table.name, key, (table.name,)):  # else its file is gone: read it again
            loaded.counts[table.name] = reuse.copy_bookkeeping(con, table)
            loaded.reused += (table.name,)
            return
    for i, ts in enumerate(parts):
        stage(con, ts, f"_staging{i}")
    for i in range(len(parts)):  # what the readers found about the stores themselves
        con.execute(f"INSERT INTO source_findings SELECT *, $t FROM _staging{i}_findings", {"t": table.name})
        con.execute(f"DROP TABLE _staging{i}_findings")
    try:
        with segments.write(table.name, key, (table.name,)) if in_segment else contextlib.nullcontext():
            accepted, rejected = validate(con, table, parts, keep_source=keep_source)
    except duckdb.Error as exc:
        if writing_failed(exc):
            raise
        raise SourceError(f"{', '.join(ts.describe() for ts in parts)}: table {table.name}: {exc}") from exc
    loaded.counts[table.name] = (accepted + rejected, accepted, rejected)  # every row read is one or the other


def _record_build(con, table_sources: dict[str, tuple[TableSource, ...]], counts: dict, policy: Policy,
                  built_at: dt.datetime, started: float) -> None:
    """What the build read from where (snapshot_tables) and under which policy and layout (snapshot_meta)."""
    every = [ts for parts in table_sources.values() for ts in parts]
    con.executemany("INSERT INTO snapshot_tables VALUES (?, ?, ?, ?, ?, ?)", [
        (t.name, t.system, ", ".join(ts.describe() for ts in table_sources[t.name])
         if t.name in table_sources else None, *counts[t.name]) for t in TABLES
    ])
    con.execute("""INSERT INTO snapshot_meta VALUES ($built_at, $policy_version, $policy_effective, $app_version,
                   $seconds, $sources, $layout, $demo_only, $fed_by)""", {
        "built_at": built_at, "policy_version": policy.version, "policy_effective": policy.effective_date,
        "app_version": __version__, "seconds": time.monotonic() - started, "layout": LAYOUT,
        "sources": json.dumps(sorted({ts.describe() for ts in every})),
        "fed_by": list(dict.fromkeys(f"{ts.source} ({ts.kind})" for ts in every)),
        "demo_only": bool(every) and all(is_demo(ts) for ts in every),
    })
