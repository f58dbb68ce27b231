"""Validation: staged rows into the canonical table, or into ``rejected_rows`` with the reason."""

from __future__ import annotations

import duckdb

from dashboard.ingest.config import TableSource
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
    returns (accepted, rejected). With ``keep_source`` the canonical table keeps, for now, which source
    each row came from (``_source``, ``_rank``): people are resolved across sources next
    (``resolve_people``).

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
                f"{checks(table)} AS _reason FROM ({staged}){order}",
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
