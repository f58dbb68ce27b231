"""PostgreSQL: a query per canonical table, streamed through ADBC as Arrow record batches into DuckDB,
so a table never has to fit in Python's memory. Credentials come only from the environment variable the
config names, and no error passes them on. What changed is known from the row count and newest change
of the rows, computed in PostgreSQL, for a table that names its ``updated_column``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

from dashboard.errors import first_line
from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.staging import projection
from dashboard.schema import Table
from dashboard.sqltext import identifier

KINDS = ("postgres",)
NEEDS_DSN = True
UPDATED_COLUMN = True


def check(path: Path, base: Path, table: Table, spec: dict, src: dict) -> tuple[str, str]:
    """The table's query (messages say "query", never its text)."""
    if "query" not in spec:
        raise SourceError(f"{path}: tables.{table.name}: a postgres source needs `query`")
    return spec["query"], "query"


def stage(con, ts: TableSource, table: Table, target: str) -> None:
    with cursor(ts) as cur:
        stream_query(con, cur, ts, table, target, ts.location)


@contextlib.contextmanager
def cursor(ts: TableSource) -> Iterator:
    """A cursor on the source's database (DSN from the environment); driver errors become one-line
    SourceErrors naming the source and table."""
    import adbc_driver_postgresql.dbapi as pg

    dsn = os.environ.get(ts.dsn_env or "")
    if not dsn:
        raise SourceError(f"{ts.describe()}: environment variable {ts.dsn_env} is not set")
    try:
        conn = pg.connect(dsn)
    except Exception as exc:  # noqa: BLE001 - libpq's message repeats a malformed URI, password included
        state = getattr(exc, "sqlstate", None) or "-"
        raise SourceError(f"{ts.describe()}: table {ts.table}: cannot connect to PostgreSQL (SQLSTATE {state}); "
                          f"check the connection string in ${ts.dsn_env} (its form, user, password, host) and "
                          f"that the server accepts connections") from None
    try:
        with conn, conn.cursor() as cur:
            yield cur
    except SourceError:
        raise
    except Exception as exc:  # the driver raises its own DB-API error classes
        raise SourceError(f"{ts.describe()}: table {ts.table}: {_without(first_line(exc), dsn)}") from None


def _without(text: str, dsn: str) -> str:
    """``text`` with the connection string and its password blanked out (a driver may repeat either)."""
    password = re.match(r"^[a-z]+://[^:/@]*:(.*)@", dsn)
    for secret in (dsn, password.group(1) if password else ""):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


# Incremental refresh (dashboard.build.reuse) for PostgreSQL: what the rows look like now, cheaply.
_SERVER = ("SELECT current_database()::text, coalesce(host(inet_server_addr()), 'local socket'), "
           "coalesce(inet_server_port(), 0)")


def changes_seen(cur, relations: list[tuple[str, str]]) -> bytes:
    """The server, then the row count and the newest value of the change column of each (FROM clause,
    column): what the next build compares. An insert or an update moves the newest value, a deletion
    the count; both are computed inside PostgreSQL, so only a few values cross the network."""
    cur.execute(_SERVER)
    seen = [[str(v) for v in cur.fetchone()]]
    for relation, column in relations:
        cur.execute(f"SELECT count(*), max({column})::text FROM {relation}")
        seen.append([str(v) for v in cur.fetchone()])
    return json.dumps(seen).encode()


def state(ts: TableSource) -> bytes | None:
    """A postgres source's rows as ``changes_seen`` describes them, when its table names the column the
    source sets on every change (``updated_column``); None otherwise (read every time)."""
    if ts.updated_column is None:
        return None
    query = ts.location.strip().rstrip(";")
    with cursor(ts) as cur:
        return changes_seen(cur, [(f"({query}) AS _q", f"_q.{identifier(ts.updated_column)}")])


def report(ts: TableSource) -> list[tuple[bool, str]]:
    """``sources check``: whether the database answers the table's query (no row is read)."""
    try:
        with cursor(ts) as cur:
            cur.execute(f"SELECT count(*) FROM ({ts.location.strip().rstrip(';')}) AS _q WHERE false")
            cur.fetchall()
    except SourceError as exc:
        return [(False, str(exc))]
    return [(True, "query answers")]


def stream_query(con, cur, ts: TableSource, table: Table, target: str, sql: str) -> None:
    """Run ``sql`` on PostgreSQL and stream its rows (Arrow record batches) into staging ``target``."""
    cur.execute(sql)
    reader = cur.fetch_record_batch()
    available = {f.name: "NATIVE" for f in reader.schema}
    select = projection(table, ts, available, lambda c, _t: identifier(c))
    con.register("_pg_stream", reader)
    try:
        con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} FROM _pg_stream")
    finally:
        con.unregister("_pg_stream")


def fetch_into(con, cur, sql: str, name: str) -> None:
    """Run ``sql`` on PostgreSQL and stream its rows as they are into DuckDB temp table ``name`` (a
    connector's raw reads, shaped in DuckDB afterwards)."""
    cur.execute(sql)
    con.register("_pg_rows", cur.fetch_record_batch())
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {identifier(name)} AS SELECT * FROM _pg_rows")
    finally:
        con.unregister("_pg_rows")
