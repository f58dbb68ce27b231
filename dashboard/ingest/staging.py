"""Staging: a source's rows under the canonical column names, values still unvalidated (text for CSV and
JSON Lines, native types for Parquet and PostgreSQL), timestamps without an offset read in the source's
time zone. Shared by every reader.

What a reader stages is a temporary view where the source can be read again as it is (a file: validation
then reads it once, with no copy of its text in between: about 3.5 s of 11 s for 10M tickets) or a temporary
table (rows streamed from a database, lines parsed one by one). Either way, scanning it gives the rows in
the source's order: validation numbers rejected rows by that order, unless the staged rows carry their
number (``SOURCE_ROW``)."""

from __future__ import annotations

from dashboard.ingest.config import SourceError, TableSource
from dashboard.schema import Table
from dashboard.sqltext import identifier, literal

# A staged column some readers add: the row's number in its source, counted from 1. Validation then need
# not keep the rows in the source's order. For Parquet that matters: DuckDB keeps a Parquet file's order by
# writing each of its row groups apart and writing them again when the snapshot is checkpointed (10M
# invoices: 2.5-3.6 s more, and a file of 338 MB instead of 213 MB).
SOURCE_ROW = "_source_row"


def projection(table: Table, ts: TableSource, available: dict[str, str], expr) -> str:
    """SELECT list that renames source columns to canonical ones; missing required columns fail."""
    parts = []
    for col in table.columns:
        src_col = ts.columns.get(col.name, col.name)
        if src_col not in available:
            if col.required:
                raise SourceError(f"{ts.describe()}: table {table.name}: required column {src_col!r} is missing")
            parts.append(f"NULL::VARCHAR AS {identifier(col.name)}")
            continue
        value = expr(src_col, available[src_col])
        if col.type == "TIMESTAMPTZ" and ts.timezone != "UTC":
            value = in_zone(value, ts.timezone)
        parts.append(f"{value} AS {identifier(col.name)}")
    return ", ".join(parts)


# A timestamp that names its offset ("...Z", "...+02:00"); a date alone does not.
_HAS_OFFSET = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"


def in_zone(value: str, zone: str) -> str:
    """A source's timestamps without an offset are local times in its ``timezone``: convert them, so
    clocks are not shifted by an hour; ones with an offset, and unreadable ones (rejected later with
    their reason), stay as they are."""
    text = f"CAST({value} AS VARCHAR)"
    local = f"TRY_CAST({text} AS TIMESTAMP)"
    return (f"CASE WHEN regexp_matches({text}, {literal(_HAS_OFFSET)}) OR {local} IS NULL THEN {text} "
            f"ELSE CAST(timezone({literal(zone)}, {local}) AS VARCHAR) END")


def text_or_native(column: str, type_: str) -> str:
    # Empty text means "no value" in exported files; typed columns keep their native type.
    quoted = identifier(column)
    return f"NULLIF(trim({quoted}), '')" if type_ == "VARCHAR" else quoted


def drop_staged(con, target: str) -> None:
    """Drop what a reader staged as ``target``: its view and the lines table behind it, or its table."""
    views = con.sql("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = $n",
                    params={"n": target}).fetchall()[0][0]
    con.execute(f"DROP {'VIEW' if views else 'TABLE'} {identifier(target)}")
    con.execute(f"DROP TABLE IF EXISTS {identifier(target + '_lines')}")


def writing_failed(exc: BaseException) -> bool:
    """The error is about writing the snapshot (disk full, file too large), not about reading a source."""
    text = str(exc)
    return ".building-" in text or any(m in text for m in ("No space left", "File too large", "Disk full"))
