"""Building and publishing a DuckDB snapshot of the operational stores.

A build reads every source into staging, validates each row against ``dashboard.schema`` (invalid
rows go to ``rejected_rows`` with a reason, never silently away), adds the derived dates from
``dashboard.deadlines``, and records what it did in ``snapshot_meta`` and ``snapshot_tables``.

Publishing is atomic: the build writes a hidden temporary file, checkpoints and fsyncs it, renames it
to a versioned ``snapshot-<UTC time>.duckdb`` and only then switches the ``CURRENT`` pointer. A
failed build removes its temporary file and leaves the previous snapshot live. Old versions are
pruned (they hold personal data); readers key their connections by the versioned file name, because
DuckDB hands a process its already-open database for a path it has seen before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from dashboard import __version__, deadlines, helpdesk_rules, history, incremental, paths, queries
from dashboard.errors import DashboardError, first_line
from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.readers import is_demo, load_sources, stage
from dashboard.ingest.staging import writing_failed
from dashboard.policy import Policy, load_policy
from dashboard.schema import TABLES, Table, subject_tables
from dashboard.sqltext import BERLIN_DATE, identifier, literal

log = logging.getLogger(__name__)
POINTER = "CURRENT"
PREFIX = "snapshot-"
# Which canonical table each policy anchor refers to, and the anchor's date in it (SQL).
ANCHORS = {"ticket_closed": ("tickets", "ticket_closed_date(status, closed_at)"),
           "contract_end": ("contracts", "end_date"), "invoice_date": ("invoices", "invoice_date")}


@dataclass(frozen=True)
class BuildResult:
    path: Path
    tables: dict[str, tuple[int, int, int]]  # table -> (read, accepted, rejected)
    seconds: float
    reused: tuple[str, ...] = ()  # tables copied from the live snapshot: their sources had not changed


# --- reading the pointer ----------------------------------------------------------------------


class BuildError(DashboardError, RuntimeError):
    """The build failed for a reason other than a source (disk, memory); nothing was published."""

    label = "errors.build"


# The layout of the tables and macros the queries rely on. Raise it whenever a build writes
# something the queries of this version need; an older snapshot is then rebuilt, not misread.
# 9 (2026-12-06, DOMAIN.md amendments of R1.8 and R3.4, section 5): is_open_request takes the closing
#   date (a closed duplicate is closed), request_open_on and record_exists are rules of their own,
#   hold_sources holds a completed erasure request's statutory records without a hold row, and every
#   retention figure of a look back leaves out the records that did not exist yet. The KPI history's
#   points move with it (history.RULES 3).
# 10 (2026-12-07, issue 36): requests carry subject_email (a representative's request names its subject);
#   source_findings records the table whose reading found it (copied with the table when unchanged)
#   and the helpdesk's deletion rule held against the policy.
# 11 (2026-12-07, issue 36.2): deletion_tasks (a system's own proof of a deletion), erasure_subjects (the ids
#   an erasure request's subject had, remembered from snapshot to snapshot) and erasure_proofs.
LAYOUT = 11

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
    con.execute(f"SET memory_limit = {literal(build_memory_limit())}")
    # One checkpoint, at the end: DuckDB's automatic ones (each 16 MB of log) wrote out the tables
    # loaded so far in the middle of the derivation, twice, about 3 s each for the large profile.
    con.execute("SET checkpoint_threshold = '1TB'")


def snapshot_layout(path: Path) -> int:
    """The layout a snapshot was built with (0 for snapshots from before layouts were recorded)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = {r[0] for r in con.sql("DESCRIBE snapshot_meta").fetchall()}
        return con.sql("SELECT layout FROM snapshot_meta").fetchall()[0][0] if "layout" in columns else 0
    finally:
        con.close()


def current_snapshot(snapshot_dir: Path | None = None) -> Path | None:
    """The live snapshot file, or None when none has been published."""
    folder = Path(snapshot_dir or paths.snapshots_dir())
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder / name
    return path if name.startswith(PREFIX) and path.is_file() else None


def list_snapshots(snapshot_dir: Path) -> list[Path]:
    return sorted(snapshot_dir.glob(f"{PREFIX}*.duckdb"))


def snapshot_problem(path: Path) -> str | None:
    """None when ``path`` opens as a snapshot this version reads; else why not, in one line."""
    try:
        layout = snapshot_layout(path)
    except (duckdb.Error, OSError, IndexError) as exc:
        return first_line(exc, typed=True)
    return None if layout == LAYOUT else f"built by an older version (layout {layout}, this version reads {LAYOUT})"


@dataclass(frozen=True)
class Usable:
    """The snapshot to read, and why it is not the live one (a fallback) if it is not."""

    path: Path | None
    live: Path | None
    problem: str | None  # what is wrong with the live snapshot (None: it is fine)


def usable_snapshot(snapshot_dir: Path | None = None) -> Usable:
    """The live snapshot, or, when it cannot be read (a corrupt file), the newest kept version that can:
    the app shows that one with a warning instead of failing on every page."""
    folder = Path(snapshot_dir or paths.snapshots_dir())
    live = current_snapshot(folder)
    if live is None:
        return Usable(None, None, None)
    problem = snapshot_problem(live)
    if problem is None or problem.startswith("built by an older version"):
        return Usable(live, live, None)  # an older layout is a rebuild prompt, not a fallback
    older = [p for p in reversed(list_snapshots(folder)) if p != live and snapshot_problem(p) is None]
    return Usable(older[0] if older else None, live, problem)


# --- validation -------------------------------------------------------------------------------


def _checks(table: Table) -> str:
    """One CASE per rule a value can break; concat_ws joins the reasons of a row."""
    parts = []
    for c in table.columns:
        col = identifier(c.name)
        if c.required:
            parts.append(f"CASE WHEN {col} IS NULL THEN '{c.name}: missing' END")
        if c.type != "VARCHAR":
            parts.append(f"CASE WHEN {col} IS NOT NULL AND TRY_CAST({col} AS {c.type}) IS NULL "
                         f"THEN '{c.name}: not a valid {c.type.split('(')[0]}' END")
        if c.enum:
            allowed = ", ".join(literal(v) for v in c.enum)
            parts.append(f"CASE WHEN {col} IS NOT NULL AND {col}::VARCHAR NOT IN ({allowed}) "
                         f"THEN '{c.name}: unknown value (allowed: {'/'.join(c.enum)})' END")
    for condition, reason in table.checks:
        parts.append(f"CASE WHEN NOT coalesce({condition}, false) THEN {literal(reason)} END")
    return "concat_ws('; ', " + ", ".join(parts) + ")"


def _validate(con: duckdb.DuckDBPyConnection, table: Table, parts: tuple[TableSource, ...],
              keep_source: bool) -> tuple[int, int]:
    """Split the staged rows of every source of ``table`` into the canonical table and ``rejected_rows``;
    returns (accepted, rejected). With ``keep_source`` the canonical table keeps, for now, which source
    each row came from (``_source``, ``_rank``): people are resolved across sources next
    (``_resolve_people``).

    One pass writes every staged row typed, with the reasons it breaks a rule; the rows with a reason
    then move to ``rejected_rows``. Duplicate keys are looked for only when a count says there are
    some (a window over every row cost as much as the copy itself). Keys are text (dashboard.schema),
    so a rejected row's key is the value as read."""
    name, key = identifier(table.name), identifier(table.key)
    staged = " UNION ALL ".join(f"SELECT *, {i} AS _part, rowid AS _row FROM _staging{i}" for i in range(len(parts)))
    casts = ", ".join(f"TRY_CAST({identifier(c.name)} AS {c.type}) AS {identifier(c.name)}" for c in table.columns)
    origin = ", $names[_part + 1] AS _source, _part AS _rank" if keep_source else ""
    # Several sources are read one after the other; their order is kept explicitly.
    order = " ORDER BY _part, _row" if len(parts) > 1 else ""
    con.execute(f"CREATE TABLE {name} AS SELECT {casts}{origin}, _part, _row, "
                f"{_checks(table)} AS _reason FROM ({staged}){order}",
                {"names": [ts.source for ts in parts]} if keep_source else None)
    # A contact's id is its source's own: two sources may both have a contact "5".
    scope = f"_part, {key}" if table.name == "contacts" else key
    duplicates = con.sql(f"SELECT count(*) - count(DISTINCT ({scope})) FROM {name} "
                         f"WHERE _reason = '' AND {key} IS NOT NULL").fetchall()[0][0]
    if duplicates:  # every row after the first with its key, in source order
        con.execute(f"""UPDATE {name} SET _reason = 'duplicate key {table.key}' WHERE rowid IN (
                        SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY {scope} ORDER BY _part, _row)
                                           AS nth FROM {name} WHERE _reason = '') WHERE nth > 1)""")
    described = [ts.describe() for ts in parts]
    con.execute(
        f"INSERT INTO rejected_rows SELECT $t, $described[_part + 1], {key}, _row + 1, _reason "
        f"FROM {name} WHERE _reason <> '' ORDER BY _part, _row",
        {"t": table.name, "described": described},
    )
    rejected = con.sql(f"SELECT count(*) FROM {name} WHERE _reason <> ''").fetchall()[0][0]
    if rejected:
        con.execute(f"DELETE FROM {name} WHERE _reason <> ''")
    for column in ("_part", "_row", "_reason"):
        con.execute(f"ALTER TABLE {name} DROP COLUMN {column}")
    for i, ts in enumerate(parts):
        # Lines the reader could not parse at all (stage() kept them with their line and reason).
        con.execute(f"INSERT INTO rejected_rows SELECT $t, $s, NULL, source_row, reason FROM _staging{i}_rejects",
                    {"t": table.name, "s": ts.describe()})
        rejected += con.sql(f"SELECT count(*) FROM _staging{i}_rejects").fetchall()[0][0]
        con.execute(f"DROP TABLE _staging{i}_rejects")
        con.execute(f"DROP TABLE _staging{i}")
    accepted = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    return accepted, rejected


# --- people across systems ---------------------------------------------------------------------

def _resolve_people(con: duckdb.DuckDBPyConnection, table_sources: dict[str, tuple[TableSource, ...]]) -> None:
    """One person, one ``contact_id`` in every table (queries/build_identities.sql says how people are
    matched). With a single contacts source every id is already its own person; with several, the
    contacts are merged into one row per person and every table fed by a contacts source has its
    contact ids replaced by the person's. Tables fed only by other sources (billing, the privacy
    register) use the ids as given (docs/CONNECTORS.md) and are left as they are."""
    con.execute(queries.sql("build_identities"))
    names = [ts.source for ts in table_sources["contacts"]]
    carrying = [t for t in TABLES if keeps_source(t.name, table_sources)]
    if len(names) > 1:
        con.execute(queries.sql("build_people"))
        for table in carrying:
            if table.name == "contacts":  # replaced by one row per person below
                continue
            column = subject_tables()[table.name]
            col = identifier(column)
            subject = "" if column == "contact_id" else " AND t.record_type = 'subject'"
            _replace(con, table.name, f"""
                SELECT t.* REPLACE (CASE WHEN list_contains($names, t._source){subject}
                                         THEN coalesce(i.contact_id, t._source || ':' || t.{col})
                                         ELSE t.{col} END AS {col})
                FROM {table.name} t LEFT JOIN contact_identities i
                  ON i.source = t._source AND i.source_contact_id = t.{col}
                ORDER BY t.rowid""", {"names": names})
        _replace(con, "contacts", "SELECT * FROM _people ORDER BY contact_id")
    for table in carrying:
        con.execute(f"ALTER TABLE {identifier(table.name)} DROP COLUMN _source")
        con.execute(f"ALTER TABLE {identifier(table.name)} DROP COLUMN _rank")


def keeps_source(table: str, table_sources: dict[str, tuple[TableSource, ...]]) -> bool:
    """Whether ``table``'s rows carry their source (``_source``, ``_rank``) until people are resolved:
    contacts always; with several contacts sources, every table that one of them feeds and that names
    a data subject (its contact ids become the merged person's, so the snapshot does not hold them as
    read)."""
    if table == "contacts":
        return True
    people = table_sources["contacts"]
    return (len(people) > 1 and table in subject_tables()
            and any(ts.source in {p.source for p in people} for ts in table_sources.get(table, ())))


def _register_findings(con, table_sources: dict[str, tuple[TableSource, ...]], policy: Policy) -> None:
    """What needs every source read first: a representative's request gets the person its
    ``subject_email`` names (queries/build_request_subjects.sql), and the helpdesk's deletion rules are
    held against the policy (dashboard.helpdesk_rules)."""
    source = ", ".join(ts.source for ts in table_sources.get("requests", ()))
    con.execute("SET VARIABLE requests_source = ?", [source])
    con.execute(queries.sql("build_request_subjects"))
    for source, subject in con.sql("SELECT source, subject FROM source_findings WHERE finding = 'deletion_rule'"
                                   ).fetchall():
        rule = helpdesk_rules.DeletionRule.from_json(subject)
        if rule.active and helpdesk_rules.differs(rule, policy):
            con.execute("INSERT INTO source_findings VALUES (?, 'deletion_rule_differs', ?, 'tickets')",
                        [source, subject])


def _erasure_proofs(con, live: Path | None) -> None:
    """Match deletion tasks to erasure requests (queries/build_erasure_proofs.sql) by the ids their
    subjects had here or in the ``live`` snapshot's memory, which it carries on. A live snapshot that
    cannot be read, or one from before the memory existed, only means no earlier ids: said in the log."""
    con.execute("CREATE TEMP TABLE _erasure_memory (request_id VARCHAR, record_type VARCHAR, source VARCHAR, "
                "record_id VARCHAR)")
    if live is not None:
        try:
            con.execute(f"ATTACH {literal(str(live))} AS _memory (READ_ONLY)")
        except duckdb.Error as exc:
            log.warning("live snapshot unreadable (%s): erasure proof matched by today's ids only",
                        type(exc).__name__)
        else:
            try:
                if con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = '_memory' "
                           "AND table_name = 'erasure_subjects'").fetchall()[0][0]:
                    con.execute("INSERT INTO _erasure_memory SELECT request_id, record_type, source, record_id "
                                "FROM _memory.erasure_subjects")
            finally:
                con.execute("DETACH _memory")
    con.execute(queries.sql("build_erasure_proofs"))
    con.execute("DROP TABLE _erasure_memory")


# --- derived columns: every date comes from dashboard.deadlines ----------------------------------


def _apply(con, name: str, inputs_sql: str, fn: Callable[..., tuple], outputs: dict[str, pl.DataType]) -> None:
    """Evaluate a domain rule once per distinct input row and store the results as table ``name``.

    Millions of records share a few thousand distinct dates, so the scalar rule (the only
    implementation) runs a few thousand times and DuckDB joins the result back: vectorised in
    effect, identical by construction.
    """
    inputs = con.sql(inputs_sql).pl()
    rows = [tuple(r) + tuple(fn(*r)) for r in inputs.iter_rows()]
    schema = {**{c: inputs.schema[c] for c in inputs.columns}, **outputs}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    con.register("_rule_frame", frame)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _rule_frame")
    con.unregister("_rule_frame")


def _replace(con, table: str, select_sql: str, params: dict | None = None) -> None:
    con.execute(f"CREATE TABLE _new AS {select_sql}", params)
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE _new RENAME TO {table}")




def _derive(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """Every derived date from dashboard.deadlines, then the tables and macros the queries read."""
    con.execute(queries.sql("build_rules"))
    _request_dates_table(con, policy)
    _retention_dates(con, policy)
    _rule_tables(con, policy)
    con.execute(queries.sql("build_retention_records"))
    con.execute(queries.sql("build_consent_spans"))
    # R2.2: the 72-hour deadline, exactly, in UTC.
    _apply(con, "_breach_deadlines", "SELECT DISTINCT aware_at FROM incidents WHERE aware_at IS NOT NULL",
           lambda aware: (deadlines.breach_notification_deadline(aware),),
           {"notification_deadline": pl.Datetime("us", "UTC")})
    _replace(con, "incidents", """
        SELECT i.*, b.notification_deadline FROM incidents i LEFT JOIN _breach_deadlines b USING (aware_at)""")
    con.execute(queries.sql("build_macros"))


def _request_dates_table(con, policy: Policy) -> None:
    """R1.2, R1.3-R1.6, R1.9: each request's Berlin receipt date, binding deadline and on-time answer."""
    _replace(con, "requests", f"""
        SELECT *, {BERLIN_DATE.format('received_at')} AS received_date,
               {BERLIN_DATE.format('extension_notified_at')} AS extension_notified_date,
               {BERLIN_DATE.format('closed_at')} AS closed_date
        FROM requests""")
    _apply(con, "_req_deadlines",
           "SELECT DISTINCT received_date, extension_notified_date FROM requests",
           lambda received, notified: _request_dates(received, notified, policy),
           {"raw_due": pl.Date, "due": pl.Date, "extended_due": pl.Date, "extension": pl.String,
            "deadline": pl.Date})
    _replace(con, "requests", """
        SELECT r.*, d.raw_due, d.due, d.extended_due, d.extension, d.deadline
        FROM requests r JOIN _req_deadlines d
          ON r.received_date = d.received_date
         AND r.extension_notified_date IS NOT DISTINCT FROM d.extension_notified_date""")
    _apply(con, "_req_on_time", "SELECT DISTINCT status, closed_date, deadline FROM requests",
           lambda status, closed, deadline: (deadlines.answered_on_time(status, closed, deadline),),
           {"answered_on_time": pl.Boolean})
    _replace(con, "requests", """
        SELECT r.*, o.answered_on_time FROM requests r JOIN _req_on_time o
          ON r.status = o.status AND r.deadline = o.deadline
         AND r.closed_date IS NOT DISTINCT FROM o.closed_date""")


def _retention_dates(con, policy: Policy) -> None:
    """R3.1/R3.2: the retained-until date of every anchor date that occurs, per policy category
    (``retention_ends``); build_retention_records.sql joins it to the records. The governed tables
    themselves are not rewritten: adding a column to 10M tickets cost a full copy (9 s)."""
    con.execute("CREATE TABLE retention_ends (anchor VARCHAR, category VARCHAR, anchor_date DATE, retained_until DATE)")
    for category, rule in policy.retention.items():
        table, anchor_date = ANCHORS[rule.anchor]
        _apply(con, "_ends", f"SELECT DISTINCT {anchor_date} AS anchor_date FROM {table} "
                             f"WHERE {anchor_date} IS NOT NULL",
               lambda anchor, c=category: (deadlines.retention_end(c, anchor, policy),), {"retained_until": pl.Date})
        con.execute("INSERT INTO retention_ends SELECT $anchor, $category, anchor_date, retained_until FROM _ends",
                    {"anchor": rule.anchor, "category": category})
        con.execute("DROP TABLE _ends")


def _rule_tables(con, policy: Policy) -> None:
    """The policy facts the derived tables read: which categories carry a statutory duty (section 5)
    and the rule settings in force, recorded in the snapshot with what they decided."""
    con.execute("CREATE TABLE policy_categories (category VARCHAR, statutory_duty BOOLEAN)")
    con.executemany("INSERT INTO policy_categories VALUES (?, ?)",
                    [(c, r.statutory_duty) for c, r in policy.retention.items()])
    con.execute("CREATE TABLE rule_settings AS SELECT $grace::INTEGER AS erasure_grace_days",
                {"grace": policy.settings.erasure_grace_days})


def _request_dates(received: dt.date, notified: dt.date | None, policy: Policy) -> tuple:
    d = deadlines.request_deadline(received, notified, policy)
    return (deadlines.request_raw_due_date(received), d.due, d.extended_due, d.extension, d.deadline)


# --- build and publish ------------------------------------------------------------------------


@contextlib.contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    """One build at a time per snapshot folder; stale temporary files are removed under the lock."""
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        for stale in folder.glob(".building-*"):
            _remove(stale)
        yield


def _remove(path: Path) -> None:
    """A leftover of a build: its file, WAL or spill folder (``<file>.tmp``)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    change is copied from the live snapshot (``dashboard.incremental``) unless ``full``."""
    progress = progress or (lambda _pct: None)
    started = time.monotonic()
    policy = policy or load_policy()
    base = Path(data_dir or paths.data_dir())
    folder = paths.private_dir(base / "snapshots")
    table_sources = load_sources(sources_path, base)
    built_at = dt.datetime.now(dt.UTC)
    version = built_at.strftime("%Y%m%dT%H%M%S%fZ")
    incremental.remove_old_cache(base)
    with _build_lock(folder):
        tmp = folder / f".building-{version}.duckdb"
        final = folder / f"{PREFIX}{version}.duckdb"
        pointer_tmp = folder / f".building-{POINTER}"
        try:
            live = current_snapshot(folder)
            loaded = _build_into(tmp, table_sources, policy, built_at, started, progress,
                                 None if full else live, live)
            paths.private_file(tmp)
            _fsync(tmp)
            os.replace(tmp, final)
            pointer_tmp.write_text(final.name, encoding="utf-8")
            paths.private_file(pointer_tmp)
            _fsync(pointer_tmp)
            os.replace(pointer_tmp, folder / POINTER)
            _fsync(folder)
        except BaseException as exc:
            # Nothing half-built stays behind, and the pointer still names the previous snapshot.
            live = current_snapshot(folder)
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal"), tmp.with_name(tmp.name + ".tmp"), pointer_tmp):
                _remove(leftover)
            if live != final:
                final.unlink(missing_ok=True)
            if isinstance(exc, duckdb.Error | OSError):  # e.g. the disk filled up: say so in one line
                hint = (f" (the build may use {build_memory_limit()}: set DASHBOARD_BUILD_MEMORY higher)"
                        if isinstance(exc, duckdb.OutOfMemoryException) else "")
                raise BuildError(f"snapshot build failed: {first_line(exc, typed=True)}{hint}; "
                                 "the previous snapshot stays live") from exc
            raise
        _prune(folder, keep, final)
    log.info("published after %.1f s", time.monotonic() - started)
    history.record_build(final, base, policy)
    seconds = time.monotonic() - started
    log.info("snapshot %s published in %.1f s", final.name, seconds)
    return BuildResult(final, loaded.counts, seconds, loaded.reused)


def _build_into(path: Path, table_sources: dict[str, tuple[TableSource, ...]], policy: Policy,
                built_at: dt.datetime, started: float, progress: Callable[[int], None],
                previous: Path | None, live: Path | None) -> Loaded:
    """Build into ``path``; ``previous``: the snapshot to copy unchanged tables from (None: read every
    source), ``live``: the snapshot whose memory of erasure subjects carries on (also on a full build)."""
    con = duckdb.connect(str(path))
    try:
        build_settings(con)
        loaded = _load_tables(con, table_sources, started, progress, previous)
        incremental.record(con, loaded.keys)
        counts = loaded.counts
        _resolve_people(con, table_sources)
        _register_findings(con, table_sources, policy)
        _erasure_proofs(con, live)
        _derive(con, policy)
        progress(90)
        log.info("derived dates, retention and consent tables: %.1f s since start", time.monotonic() - started)
        _record_build(con, table_sources, counts, policy, built_at, started)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return loaded


@dataclass
class Loaded:
    """What loading the canonical tables did: counts per table, fingerprints, tables from the cache."""

    counts: dict[str, tuple[int, int, int]]
    keys: dict[str, str]
    reused: tuple[str, ...]


def _load_tables(con, table_sources: dict[str, tuple[TableSource, ...]], started: float,
                 progress: Callable[[int], None], previous: Path | None) -> Loaded:
    """Every canonical table from its sources, validated, or copied from the ``previous`` (live) snapshot
    when its source files are unchanged; (read, accepted, rejected) per table."""
    con.execute("""CREATE TABLE rejected_rows (table_name VARCHAR, source VARCHAR, record_key VARCHAR,
                   source_row BIGINT, reason VARCHAR)""")
    con.execute("CREATE TABLE source_findings (source VARCHAR, finding VARCHAR, subject VARCHAR, table_name VARCHAR)")
    loaded = Loaded({}, {}, ())
    fingerprints = incremental.attach_previous(con, previous)
    try:
        for table in TABLES:
            _load_table(con, table, table_sources, fingerprints, loaded)
            log.info("%s: %d rows%s, %.1f s since start", table.name, loaded.counts[table.name][0],
                     " (unchanged: copied)" if table.name in loaded.reused else "", time.monotonic() - started)
            progress(5 + 75 * len(loaded.counts) // len(TABLES))
    finally:
        incremental.detach_previous(con)
    return loaded


def _load_table(con, table: Table, table_sources: dict[str, tuple[TableSource, ...]], fingerprints: dict[str, str],
                loaded: Loaded) -> None:
    parts = table_sources.get(table.name, ())
    if not parts:  # an optional table no source feeds: present, empty
        columns = ", ".join(f"{identifier(c.name)} {c.type}" for c in table.columns)
        con.execute(f"CREATE TABLE {identifier(table.name)} ({columns})")
        loaded.counts[table.name] = (0, 0, 0)
        return
    keep_source = keeps_source(table.name, table_sources)
    # A table whose contact ids become merged people's is not in the live snapshot as read: not copied.
    merged_ids = keep_source and len(table_sources["contacts"]) > 1
    key = None if merged_ids else incremental.fingerprint(table, parts, keep_source, LAYOUT)
    if key:
        loaded.keys[table.name] = key
    if key and fingerprints.get(table.name) == key:
        loaded.counts[table.name] = incremental.copy_table(con, table, parts, keep_source)
        loaded.reused += (table.name,)
        return
    read = sum(stage(con, ts, f"_staging{i}") for i, ts in enumerate(parts))
    for i in range(len(parts)):  # what the readers found about the stores themselves
        con.execute(f"INSERT INTO source_findings SELECT *, $t FROM _staging{i}_findings", {"t": table.name})
        con.execute(f"DROP TABLE _staging{i}_findings")
    try:
        accepted, rejected = _validate(con, table, parts, keep_source=keep_source)
    except duckdb.Error as exc:
        if writing_failed(exc):
            raise
        raise SourceError(f"{', '.join(ts.describe() for ts in parts)}: table {table.name}: {exc}") from exc
    loaded.counts[table.name] = (read, accepted, rejected)


def _record_build(con, table_sources: dict[str, tuple[TableSource, ...]], counts: dict, policy: Policy,
                  built_at: dt.datetime, started: float) -> None:
    """What the build read from where (snapshot_tables) and under which policy and layout (snapshot_meta)."""
    every = [ts for parts in table_sources.values() for ts in parts]
    con.execute("""CREATE TABLE snapshot_tables (table_name VARCHAR, system VARCHAR, source VARCHAR,
                   rows_read BIGINT, accepted BIGINT, rejected BIGINT)""")
    con.executemany("INSERT INTO snapshot_tables VALUES (?, ?, ?, ?, ?, ?)", [
        (t.name, t.system, ", ".join(ts.describe() for ts in table_sources[t.name])
         if t.name in table_sources else None, *counts[t.name]) for t in TABLES
    ])
    con.execute("""CREATE TABLE snapshot_meta AS SELECT $built_at::TIMESTAMPTZ AS built_at,
                   $policy_version AS policy_version, $policy_effective::DATE AS policy_effective,
                   $app_version AS app_version, $seconds::DOUBLE AS build_seconds, $sources AS sources,
                   $layout::INTEGER AS layout, $demo_only::BOOLEAN AS demo_only,
                   $fed_by::VARCHAR[] AS fed_by""", {
        "built_at": built_at, "policy_version": policy.version, "policy_effective": policy.effective_date,
        "app_version": __version__, "seconds": time.monotonic() - started, "layout": LAYOUT,
        "sources": json.dumps(sorted({ts.describe() for ts in every})),
        "fed_by": list(dict.fromkeys(f"{ts.source} ({ts.kind})" for ts in every)),
        "demo_only": bool(every) and all(is_demo(ts) for ts in every),
    })


def _prune(folder: Path, keep: int, live: Path) -> None:
    """Delete all but the newest ``keep`` versions (they hold personal data); never the live one."""
    for old in list_snapshots(folder)[: -max(keep, 1)]:
        if old != live:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".wal").unlink(missing_ok=True)
