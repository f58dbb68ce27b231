"""Incremental refresh: a canonical table whose sources did not change is reused from the live snapshot
instead of being read and validated again: a large one's segment is attached as it is
(``dashboard.build.segments``), a small one copied.

Every snapshot records, per table, a fingerprint of everything validation depends on
(``source_fingerprints``): this version of the app, the snapshot layout, the table's schema, each
source's settings and the *content* of each source file (SHA-256; a file copied anew with the same
bytes still counts as unchanged, one with the same size and time but other bytes does not). The next
build reuses a table whose fingerprint is the same, with its rejected rows and counts, from the live
snapshot. The large derived tables are reused the same way (``DERIVED``: fingerprinted by what they are
made from); everything else after validation (people, derived dates, what holds a record) is computed
afresh, so the snapshot is the one a full build would publish. ``snapshot --full`` reads everything.

When *nothing* changed (every fed table fingerprinted and the same, the same tables fed, the same policy:
``POLICY_KEY``), the derived tables would come out the same too: the refresh publishes nothing, keeps the
live snapshot and records when it asked the sources (``snapshot.record_check``), which the sidebar, the
digest and ``status`` show. A table read every time (a register in Zammad, listmonk's consent events)
has no fingerprint, so a source like that always builds.

The live snapshot already holds every validated table (the build adds derived columns beside the
source columns, never changes them), so nothing is written twice: keeping a copy of each table aside
cost 25 s of a 212 s build of the large profile, and a second place with personal data.

A PostgreSQL source counts as unchanged when its rows have the same count and the same newest change:
a ``postgres`` table that names its ``updated_column``, and the relations a connector watches (Zammad's
tickets and attachments, listmonk's subscribers; the connectors say why not the others). That is the
source's own discipline: a change that does not touch ``updated_at`` (a direct SQL fix) is seen once
the count or the newest change moves, or by ``snapshot --full``. listmonk's consent events are read
every time: each read appends to the consent ledger. Where people are merged across several contacts
sources, the tables whose contact ids become the merged person's (contacts, and those the contacts
sources feed that name a person) are read every time: the snapshot holds their merged ids, not the
rows as read. The other systems' tables are copied as usual.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dashboard import __version__, deadlines, queries, sqltext
from dashboard.ingest import readers
from dashboard.ingest.config import TableSource
from dashboard.schema import Table
from dashboard.sqltext import identifier, literal

log = logging.getLogger(__name__)
PREVIOUS = "_previous"


def fingerprint(table: Table, parts: tuple[TableSource, ...], keep_source: bool, layout: int) -> str | None:
    """What the validated ``table`` depends on, hashed; None when a source cannot be fingerprinted (see
    ``readers.state``; reading it then says what is wrong, if anything)."""
    digest = hashlib.sha256(json.dumps([__version__, layout, repr(table), keep_source]).encode())
    for ts in parts:
        state = readers.state(ts)
        if state is None:
            return None
        digest.update(json.dumps([ts.source, ts.kind, ts.location, ts.columns, ts.timezone, ts.rank,
                                  readers.is_demo(ts), ts.updated_column, ts.settings],
                                 sort_keys=True, default=str).encode())
        digest.update(state)
    return digest.hexdigest()[:40]


POLICY_KEY = "__policy__"  # source_fingerprints' row for what the derived tables take from the policy

# Derived tables reused like source tables: each group is made by one SQL file from the canonical tables
# named here (as the build holds them, people resolved) and the policy (retention_ends, policy_categories:
# computed anew on every build, they are cheap). Its fingerprint is theirs, with the file's text, the rules
# it is made with and the layout (as sqlmesh fingerprints a model by its query and its parents); an
# unchanged one is reused: the ones kept in segments (``segment``) attached as they are, the others copied
# from the live snapshot. On the large profile the retention parts and the consent spans alone are 21.8 s
# of a 68.8 s build; a refresh of the privacy register changes none of the groups, a day of helpdesk work
# the helpdesk's records, the figures counted from them and the consent spans.
@dataclass(frozen=True)
class Derived:
    makes: tuple[str, ...]  # the tables it makes, in order
    reads: tuple[str, ...]  # the canonical tables it reads
    segment: bool = False  # kept in a segment of its own (``dashboard.build.segments``): large, never rewritten


DERIVED: dict[str, Derived] = {  # by the SQL file that makes it, in the order dashboard.build.derive runs them
    "build_retention_helpdesk": Derived(("retention_helpdesk",), ("tickets", "attachments"), segment=True),
    "build_retention_billing": Derived(("retention_billing",), ("contracts", "invoices"), segment=True),
    "build_retention_figures": Derived(("retention_daily", "subject_retention", "subject_running"),
                                       ("tickets", "attachments", "contracts", "invoices")),
    "build_consent_spans": Derived(("consent_spans",), ("consent_events",), segment=True),
}
DERIVED_PREFIX = "derived:"  # source_fingerprints' rows for the derived groups
# What else the derived tables are made with: the view that joins the retention parts, the macros they
# call and the rules that date them.
_MADE_WITH_SQL = ("build_retention_records", "build_rules")
_MADE_WITH_CODE = (Path(deadlines.__file__), Path(sqltext.__file__), Path(__file__).with_name("derive.py"))


def derived_keys(keys: dict[str, str | None], layout: int) -> dict[str, str | None]:
    """Each derived group's fingerprint (``DERIVED``), None when a table it reads has none (read every
    time, or its contact ids are merged people's)."""
    made_with = hashlib.sha256()
    for name in _MADE_WITH_SQL:
        made_with.update(queries.sql(name).encode())
    for code in _MADE_WITH_CODE:
        made_with.update(code.read_bytes())
    made_with.update(importlib.metadata.version("holidays").encode())  # public holidays date the deadlines
    found: dict[str, str | None] = {}
    for group, derived in DERIVED.items():
        parents = [keys.get(t) for t in derived.reads]
        found[DERIVED_PREFIX + group] = None if None in parents else hashlib.sha256(json.dumps(
            [__version__, layout, keys[POLICY_KEY], parents, queries.sql(group), made_with.hexdigest()]
        ).encode()).hexdigest()[:40]
    return found


def policy_key(policy) -> str:
    """The policy as the derived tables read it (periods, rules, settings): a change rebuilds them."""
    return hashlib.sha256(json.dumps([__version__, repr(policy)]).encode()).hexdigest()[:40]


def recorded(live: Path | None) -> dict[str, str]:
    """The fingerprints the live snapshot recorded ({} when there is none or it cannot be read)."""
    if live is None:
        return {}
    try:
        con = duckdb.connect(str(live), read_only=True)
    except duckdb.Error:
        return {}
    try:
        return dict(con.sql("SELECT table_name, fingerprint FROM source_fingerprints").fetchall())
    except duckdb.Error:
        return {}
    finally:
        con.close()


def nothing_changed(keys: dict[str, str | None], previous: dict[str, str]) -> bool:
    """Every fed table fingerprinted and the same as in the live snapshot, the same tables fed, the same
    policy: the snapshot a build would publish is the live one (its derived tables are made from nothing
    else), so the refresh keeps it. A table read every time (no fingerprint) always builds."""
    sources = {k: v for k, v in previous.items() if not k.startswith(DERIVED_PREFIX)}
    return bool(sources) and None not in keys.values() and keys == sources


def attach_previous(con: duckdb.DuckDBPyConnection, live: Path | None) -> bool:
    """Attach the live snapshot (read-only) to copy unchanged tables from; False when there is none or it
    cannot be read, or it recorded no fingerprints (an older version): then every table is read."""
    if live is None:
        return False
    try:
        con.execute(f"ATTACH {literal(str(live))} AS {PREVIOUS} (READ_ONLY)")
    except duckdb.Error as exc:
        log.warning("live snapshot unreadable (%s): reading every source", type(exc).__name__)
        return False
    if con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = $n AND table_name = 'source_fingerprints'",
               params={"n": PREVIOUS}).fetchall()[0][0]:
        return True
    detach_previous(con)
    return False


def copy_table(con: duckdb.DuckDBPyConnection, table: Table, parts: tuple[TableSource, ...],
               keep_source: bool) -> tuple[int, int, int]:
    """Create ``table``, its rejected rows and its store's findings as the live snapshot holds them (its
    source columns, not the derived ones); returns its (read, accepted, rejected)."""
    columns = ", ".join(identifier(c.name) for c in table.columns)
    origin = f", {literal(parts[0].source)} AS _source, 0 AS _rank" if keep_source else ""
    con.execute(f"CREATE TABLE {identifier(table.name)} AS SELECT {columns}{origin} "
                f"FROM {PREVIOUS}.{identifier(table.name)}")  # in its order: no sort
    return copy_bookkeeping(con, table)


def copy_bookkeeping(con: duckdb.DuckDBPyConnection, table: Table) -> tuple[int, int, int]:
    """What the live snapshot recorded about reading ``table``: its rejected rows and its store's findings
    (copied), its (read, accepted, rejected) (returned). A table in a segment needs only this."""
    con.execute(f"INSERT INTO rejected_rows SELECT * FROM {PREVIOUS}.rejected_rows WHERE table_name = $t",
                {"t": table.name})
    # What reading the table found about its store (e.g. the helpdesk's deletion rule, read with tickets).
    con.execute(f"INSERT INTO source_findings SELECT * FROM {PREVIOUS}.source_findings WHERE table_name = $t "
                "AND finding <> 'deletion_rule_differs'", {"t": table.name})
    return con.sql(f"SELECT rows_read, accepted, rejected FROM {PREVIOUS}.snapshot_tables WHERE table_name = $t",
                   params={"t": table.name}).fetchall()[0]


def unchanged_derived(keys: dict[str, str | None], recorded: dict[str, str]) -> frozenset[str]:
    """The derived groups whose fingerprint in ``keys`` is the one the live snapshot ``recorded``."""
    names = {group: DERIVED_PREFIX + group for group in DERIVED}
    return frozenset(group for group, name in names.items()
                     if keys[name] is not None and recorded.get(name) == keys[name])


def copy_derived(con: duckdb.DuckDBPyConnection, group: str) -> None:
    """Make the tables of a derived ``group`` kept in the snapshot file as the live snapshot holds them,
    in their order."""
    for table in DERIVED[group].makes:
        con.execute(f"CREATE TABLE {identifier(table)} AS SELECT * FROM {PREVIOUS}.{identifier(table)}")


def detach_previous(con: duckdb.DuckDBPyConnection) -> None:
    if con.sql("SELECT count(*) FROM duckdb_databases() WHERE database_name = $n",
               params={"n": PREVIOUS}).fetchall()[0][0]:
        con.execute(f"DETACH {PREVIOUS}")


def record(con: duckdb.DuckDBPyConnection, keys: dict[str, str | None]) -> None:
    """Store this build's fingerprints in the snapshot, for the next build (tables read every time have
    none)."""
    known = [(k, v) for k, v in keys.items() if v is not None]
    if known:
        con.executemany("INSERT INTO source_fingerprints VALUES (?, ?)", known)


def remove_old_cache(data_dir: Path) -> None:
    """Earlier versions kept validated tables in ``state/build-cache``: personal data nobody reads now."""
    shutil.rmtree(Path(data_dir) / "state" / "build-cache", ignore_errors=True)
