"""Connectors: a system's own PostgreSQL tables (Zammad, listmonk) read as canonical tables.

The DPO configures a kind, a DSN variable and a few mappings; the connector knows the system's
tables and writes the SQL. Before it reads anything it checks, in the system catalogue, every table
and column it needs and the SELECT grant on each, so a missing grant or an unexpected schema
version fails the build in one line naming the system, table and column (the previous snapshot
stays live). What a connector reads is listed by its ``requires`` and nothing else: never message
bodies, passwords or file contents.
"""

from __future__ import annotations

from types import ModuleType

import duckdb

from dashboard.connectors import listmonk, zammad
from dashboard.schema import Table
from dashboard.sources import SourceError, TableSource, postgres_cursor

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
