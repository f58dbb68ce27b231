"""Connectors: a system's own PostgreSQL tables (Zammad, listmonk) read as canonical tables.

The DPO configures a kind, a DSN variable and a few mappings; the connector knows the system's
tables and writes the SQL. Before it reads anything it checks, in the system catalogue, every table
and column it needs and the SELECT grant on each, so a missing grant or an unexpected schema
version fails the build in one line naming the system, table and column (the previous snapshot
stays live). What a connector reads is listed by its ``requires`` and nothing else: never message
bodies, passwords or file contents.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

import duckdb

from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.connectors import listmonk, zammad, znuny
from dashboard.ingest.connectors.catalogue import check_relation
from dashboard.ingest.postgres import changes_seen, cursor
from dashboard.schema import Table
from dashboard.sqltext import identifier

log = logging.getLogger(__name__)

SYSTEMS: dict[str, ModuleType] = {"zammad": zammad, "znuny": znuny, "listmonk": listmonk}
KINDS = tuple(SYSTEMS)
NEEDS_DSN = True
UPDATED_COLUMN = False


def feeds(kind: str) -> tuple[str, ...]:
    """The canonical tables a connector kind can feed."""
    return tuple(SYSTEMS[kind].FEEDS)


def check(path: Path, base: Path, table: Table, spec: dict, src: dict) -> tuple[str, str]:
    """A connector feeds the tables its system has (messages name the source and kind only)."""
    kind = src["kind"]
    if table.name not in feeds(kind):
        raise SourceError(f"{path}: tables.{table.name}: a {kind} source cannot feed it "
                          f"(it feeds {', '.join(feeds(kind))})")
    return kind, ""


def stage(con: duckdb.DuckDBPyConnection, ts: TableSource, table: Table, target: str) -> None:
    """Check the system's tables for ``ts.table``, then stream its rows into staging ``target``."""
    system = SYSTEMS[ts.kind]
    system.check_settings(ts)
    schema = ts.settings.get("schema", "public")
    with cursor(ts) as cur:
        for relation, columns in system.requires(ts).items():
            check_relation(cur, ts, schema, relation, columns)
        system.stage(con, cur, ts, table, target)


def report(ts: TableSource) -> list[tuple[bool, str]]:
    """``sources check``: every table and column the connector reads for ``ts.table``, with its grant, then
    what the system itself says (the Zammad register's groups, attributes and tags)."""
    system = SYSTEMS[ts.kind]
    schema = ts.settings.get("schema", "public")
    lines = []
    try:
        system.check_settings(ts)
        with cursor(ts) as cur:
            for relation, columns in system.requires(ts).items():
                try:
                    check_relation(cur, ts, schema, relation, columns)
                except SourceError as exc:
                    lines.append((False, str(exc).split(": ", 1)[-1]))
            if not lines:
                lines.append((True, f"tables and grants ({len(system.requires(ts))} tables)"))
            lines += getattr(system, "report", lambda *_a: [])(cur, ts, schema)
    except SourceError as exc:
        lines.append((False, str(exc).split(": ", 1)[-1]))
    return lines


def state(ts: TableSource) -> bytes | None:
    """The system's tables behind ``ts.table`` as ``changes_seen`` describes them (row count and newest
    change of each relation the connector watches: the system sets that column, ``updated_at`` or the
    connector's ``CHANGED_COLUMN``, on every change the connector reads), for incremental refresh. None
    when the connector does not watch that table (a relation without such a column feeds it, e.g.
    Zammad's ``roles_users``) or the role may not read the column (the grants of deploy/*-readonly.sql):
    then the table is read every time."""
    system = SYSTEMS[ts.kind]
    relations = system.WATCH.get(ts.table, ())
    if not relations:
        return None
    column = getattr(system, "CHANGED_COLUMN", "updated_at")
    schema = ts.settings.get("schema", "public")
    with cursor(ts) as cur:
        for relation in relations:
            cur.execute("SELECT has_column_privilege(format('%I.%I', $1::text, $2::text), $3::text, 'SELECT')",
                        parameters=(schema, relation, column))
            if not cur.fetchone()[0]:
                log.info("%s: no SELECT grant on %s.%s: %s is read every time", ts.describe(), relation, column,
                         ts.table)
                return None
        return changes_seen(cur, [(f"{identifier(schema)}.{identifier(r)}", column) for r in relations])
