"""Before a connector reads anything, the system's catalogue says whether every table and column it needs
is there and granted to the read-only role: one line naming what is missing, instead of an SQL error."""

from __future__ import annotations

from dashboard.ingest.config import SourceError, TableSource


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


def readable_columns(cur, schema: str, relation: str) -> set[str]:
    """The columns of ``relation`` the role may read: optional ones (a register attribute the DPO has not
    created, or not granted) are read as empty and named, instead of failing the build."""
    cur.execute("SELECT a.attname::text FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
                "AND a.attnum > 0 AND NOT a.attisdropped AND has_column_privilege(c.oid, a.attnum, 'SELECT')",
                parameters=(schema, relation))
    return {row[0] for row in cur.fetchall()}
