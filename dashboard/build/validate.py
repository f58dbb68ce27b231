"""Validation: staged rows into the canonical table, or into ``rejected_rows`` with the reason."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from dashboard.ingest.config import TableSource
from dashboard.ingest.staging import SOURCE_ROW, drop_staged
from dashboard.schema import Table
from dashboard.sqltext import identifier, literal


def checks(table: Table) -> str:
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


def validate(con: duckdb.DuckDBPyConnection, table: Table, parts: tuple[TableSource, ...],
              keep_source: bool) -> tuple[int, int]:
    """Split the staged rows of every source of ``table`` into the canonical table and ``rejected_rows``;
    returns (accepted, rejected), the rows the readers could not parse counted as rejected. With
    ``keep_source`` the canonical table keeps, for now, which source each row came from (``_source``,
    ``_rank``): people are resolved across sources next (``resolve_people``).

    One pass per source writes every staged row typed, with the reasons it breaks a rule, straight from
    the source where the reader staged a view (a file: no copy of its text is kept in between); the rows
    with a reason then move to ``rejected_rows``. The sources are appended one after the other in their
    order, so a row's place in the table (``rowid``) is its place among the rows read: a rejected row's
    number is that, counted from its own source's first row, unless the reader staged each row's number
    (``staging.SOURCE_ROW``; then its rows are written in any order). Duplicate keys are looked for only when a
    count says there are some (a window over every row cost as much as the copy itself). Keys are text
    (dashboard.schema), so a rejected row's key is the value as read."""
    name, key = identifier(table.name), identifier(table.key)
    casts = ", ".join(f"TRY_CAST({identifier(c.name)} AS {c.type}) AS {identifier(c.name)}" for c in table.columns)
    firsts = []  # the rowid of each source's first row
    for i, ts in enumerate(parts):
        origin = f", {literal(ts.source)} AS _source, {i} AS _rank" if keep_source else ""
        # A source whose staged rows carry their number (staging.SOURCE_ROW) may be written in any order.
        numbered = SOURCE_ROW in con.sql(f"SELECT * FROM _staging{i} LIMIT 0").columns
        row = SOURCE_ROW if numbered else "NULL::BIGINT"
        rows = f"SELECT {casts}{origin}, {i} AS _part, {row} AS _row, {checks(table)} AS _reason FROM _staging{i}"
        firsts.append(con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0] if i else 0)
        with _in_any_order(con, numbered):
            con.execute(f"INSERT INTO {name} {rows}" if i else f"CREATE TABLE {name} AS {rows}")
    # A row's number in its own source: as staged, or its place among the rows read (rowid from that source's first).
    source_row = "coalesce(_row, rowid - $firsts[_part + 1] + 1)"
    # A contact's id is its source's own: two sources may both have a contact "5".
    scope = f"_part, {key}" if table.name == "contacts" else key
    duplicates = con.sql(f"SELECT count(*) - count(DISTINCT ({scope})) FROM {name} "
                         f"WHERE _reason = '' AND {key} IS NOT NULL").fetchall()[0][0]
    if duplicates:  # every row after the first with its key, in source order
        con.execute(f"""UPDATE {name} SET _reason = 'duplicate key {table.key}' WHERE rowid IN (
                        SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY {scope}
                                                                            ORDER BY _part, {source_row})
                                           AS nth FROM {name} WHERE _reason = '') WHERE nth > 1)""",
                    {"firsts": firsts})
    con.execute(
        f"INSERT INTO rejected_rows SELECT $t, $described[_part + 1], {key}, {source_row}, _reason "
        f"FROM {name} WHERE _reason <> '' ORDER BY _part, {source_row}",
        {"t": table.name, "described": [ts.describe() for ts in parts], "firsts": firsts},
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
        drop_staged(con, f"_staging{i}")
    accepted = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    return accepted, rejected


@contextlib.contextmanager
def _in_any_order(con: duckdb.DuckDBPyConnection, any_order: bool) -> Iterator[None]:
    """Within the block, with ``any_order``, DuckDB may write rows in the order its threads finish them."""
    if not any_order:
        yield
        return
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute("RESET preserve_insertion_order")
