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
from types import ModuleType

import duckdb

from dashboard.connectors import listmonk, zammad
from dashboard.schema import Table
from dashboard.sources import SourceError, TableSource, changes_seen, postgres_cursor
from dashboard.sqltext import identifier

log = logging.getLogger(__name__)

SYSTEMS: dict[str, ModuleType] = {"zammad": zammad, "listmonk": listmonk}


def feeds(kind: str) -> tuple[str, ...]:
    """The canonical tables a connector kind can feed."""
    return tuple(SYSTEMS[kind].FEEDS)


def stage(con: duckdb.DuckDBPyConnection, ts: TableSource, table: Table, target: str) -> None:
    """Check the system's tables for ``ts.table``, then stream its rows into staging ``target``."""
    system = SYSTEMS[ts.kind]
    system.check_settings(ts)
    schema = ts.settings.get("schema", "public")
    with postgres_cursor(ts) as cur:
        for relation, columns in system.requires(ts).items():
            check_relation(cur, ts, schema, relation, columns)
        system.stage(con, cur, ts, table, target)


def watched_state(ts: TableSource) -> bytes | None:
    """The system's tables behind ``ts.table`` as ``changes_seen`` describes them (row count and newest
    ``updated_at`` of each relation the connector watches: the system sets it on every change the
    connector reads), for incremental refresh. None when the connector does not watch that table (a
    relation without ``updated_at`` feeds it, e.g. Zammad's ``roles_users``) or the role may not read
    ``updated_at`` (the grants of deploy/*-readonly.sql): then the table is read every time."""
    relations = SYSTEMS[ts.kind].WATCH.get(ts.table, ())
    if not relations:
        return None
    schema = ts.settings.get("schema", "public")
    with postgres_cursor(ts) as cur:
        for relation in relations:
            cur.execute("SELECT has_column_privilege(format('%I.%I', $1::text, $2::text), 'updated_at', 'SELECT')",
                        parameters=(schema, relation))
            if not cur.fetchone()[0]:
                log.info("%s: no SELECT grant on %s.updated_at: %s is read every time", ts.describe(), relation,
                         ts.table)
                return None
        return changes_seen(cur, [(f"{identifier(schema)}.{identifier(r)}", "updated_at") for r in relations])


def check_relation(cur, ts: TableSource, schema: str, relation: str, columns: tuple[str, ...]) -> None:
    """One line naming what is missing: the table, a column (another schema version), or a grant."""
    where = f"{ts.describe()}: table {schema}.{relation}"
    cur.execute("SELECT c.oid::bigint FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2", parameters=(schema, relation))
    found = cur.fetchone()
    if found is None:
        raise SourceError(f"{where}: not found (not a {ts.kind} database, or an unexpected schema version)")
    oid = found[0]
    cur.execute("SELECT attname::text FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 "
                "AND NOT attisdropped", parameters=(oid,))
    present = {row[0] for row in cur.fetchall()}
    missing = [c for c in columns if c not in present]
    if missing:
        raise SourceError(f"{where}: column {', '.join(missing)} missing (unexpected {ts.kind} schema version)")
    ungranted = []
    for column in columns:
        cur.execute("SELECT has_column_privilege($1::oid, $2, 'SELECT')", parameters=(oid, column))
        if not cur.fetchone()[0]:
            ungranted.append(column)
    if ungranted:
        raise SourceError(f"{where}: no SELECT grant on column {', '.join(ungranted)} "
                          "(see docs/CONNECTORS.md for the read-only role)")
