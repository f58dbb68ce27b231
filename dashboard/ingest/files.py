"""File stores (CSV, JSON Lines, Parquet): a file per canonical table, at ``path`` / ``file`` of the
config. What changed is known from the file's content (SHA-256). Lines a reader cannot parse at all
(CSV checked line by line, JSON Lines read line by line) are kept with their line number and reason,
never dropped.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb

from dashboard.ingest.config import DEMO_MARKER, SourceError, TableSource
from dashboard.ingest.staging import SOURCE_ROW, projection, text_or_native
from dashboard.schema import Table
from dashboard.sqltext import identifier, literal

KINDS = ("csv", "jsonl", "parquet")
NEEDS_DSN = False
UPDATED_COLUMN = False


def check(path: Path, base: Path, table: Table, spec: dict, src: dict) -> tuple[str, str]:
    """The file of ``table`` (relative paths below the data directory), and how messages name it."""
    if "file" not in spec or "path" not in src:
        raise SourceError(f"{path}: tables.{table.name}: a file source needs `path` and `file`")
    folder = Path(src["path"])
    location = str((folder if folder.is_absolute() else base / folder) / spec["file"])
    return location, location


def stage(con, ts: TableSource, table: Table, target: str) -> None:
    path = Path(ts.location)
    if not path.is_file():
        raise SourceError(f"{ts.describe()}: file not found")
    params = {"path": ts.location}
    if path.stat().st_size == 0:  # an empty export: no rows (and no header to check)
        available = {ts.columns.get(c.name, c.name): "VARCHAR" for c in table.columns}
        select = projection(table, ts, available, lambda c, _t: "NULL::VARCHAR")
        con.execute(f"CREATE TEMP VIEW {target} AS SELECT {select} LIMIT 0")
    elif ts.kind == "csv":
        _stage_csv(con, ts, table, target, params)
    elif ts.kind == "jsonl":
        _stage_jsonl(con, ts, table, target, params)
    else:
        described = {row[0]: row[1] for row in con.sql("DESCRIBE SELECT * FROM read_parquet($path)",
                                                       params=params).fetchall()}
        select = projection(table, ts, described, text_or_native)
        # Each row's number in the file goes along (staging.SOURCE_ROW): validation can then write the rows
        # in any order, which costs less than keeping a Parquet file's order (staging.py says how much).
        # DuckDB cannot number a file that has a column of that name: its rows keep their order instead.
        numbered = "file_row_number" not in described
        row = f", file_row_number + 1 AS {SOURCE_ROW}" if numbered else ""
        con.execute(f"CREATE TEMP VIEW {target} AS SELECT {select}{row} "
                    f"FROM read_parquet({literal(ts.location)}, file_row_number = {str(numbered).lower()})")


def state(ts: TableSource) -> bytes | None:
    """The file's content hash (a file copied anew with the same bytes is unchanged); None when missing."""
    path = Path(ts.location)
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()


def report(ts: TableSource) -> list[tuple[bool, str]]:
    """``sources check``: whether the file is there to read."""
    path = Path(ts.location)
    return [(path.is_file(), f"file {path.name}" + ("" if path.is_file() else " not found"))]


def is_demo(ts: TableSource) -> bool:
    """Whether ``dashboard demo`` wrote this store (it leaves ``DEMO_MARKER`` beside the files)."""
    return (Path(ts.location).parent / DEMO_MARKER).is_file()


# CSV: one record per line. Every physical line is checked on its own first, so one broken line (an
# unbalanced quote, a wrong number of fields, a line longer than MAX_LINE) is set aside alone and
# cannot change how the rest of the file is read. Fields may be quoted ("a, b", "say ""hi""");
# a line break inside a quoted field is not supported: such a record is set aside as malformed.
MAX_LINE = 2 * 1024 * 1024
_RAW_LINES = ("read_csv($path, columns = {'line': 'VARCHAR'}, header = false, delim = chr(31), quote = '', "
              "escape = '', auto_detect = false, max_line_size = " + str(MAX_LINE) + ", store_rejects = true, "
              "rejects_table = '_raw_reject_errors', rejects_scan = '_raw_reject_scans')")
# The records of a file whose records end in CRLF while a quoted cell holds a lone LF (numbered).
_CRLF_RECORDS = ("(SELECT generate_subscripts(r, 1) AS ordinal, unnest(r) AS line "
                 "FROM (SELECT string_split(content, chr(13) || chr(10)) AS r FROM read_text($path)))")
DELIMITERS = (",", ";", "\t", "|")


def _field(delimiter: str) -> str:
    d = "\\t" if delimiter == "\t" else "\\" + delimiter
    return f'"(?:[^"]|"")*"|[^"{d}]*', d


def _stage_csv(con, ts: TableSource, table: Table, target: str, params: dict) -> None:
    with open(ts.location, "rb") as fh:
        first = fh.readline(MAX_LINE + 1)
    if len(first) > MAX_LINE or not first.strip():
        raise SourceError(f"{ts.describe()}: table {table.name}: the header line is missing or too long")
    header = first.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    delimiter = max(DELIMITERS, key=header.count)
    field, d = _field(delimiter)
    names = [n.strip() for n in next(csv.reader([header], delimiter=delimiter))]
    fields = f"(?:^|{d})({field})"
    numbered = f"SELECT row_number() OVER () AS ordinal, rtrim(line, chr(13)) AS line FROM {_RAW_LINES}"
    raw = _RAW_LINES
    # The patterns are literals (not bound parameters), so DuckDB compiles each once, not per line.
    # strlen counts bytes, length characters: the delimiters are one byte each, and bytes are counted faster
    # (1.1 s against 1.65 s for 10M lines).
    well_formed = (f"CASE WHEN NOT contains(line, '\"') "
                   f"THEN strlen(line) - strlen(replace(line, {literal(delimiter)}, '')) = {len(names) - 1} "
                   f"ELSE regexp_full_match(line, {literal(f'(?:{field})(?:{d}(?:{field}))*')}) "
                   f"AND len(regexp_extract_all(line, {literal(fields)}, 1)) = {len(names)} END")
    check = params
    # One streaming pass counts malformed lines (a file without any, the usual case, stops here); only
    # then a numbered pass finds which ones.
    malformed = []
    try:
        broken = con.sql(f"SELECT count(*) FROM {raw} WHERE line <> '' AND NOT ({well_formed})",
                         params=check).fetchall()[0][0]
    except duckdb.InvalidInputException:
        # Mixed line endings: records end in CRLF and a cell holds a lone LF (Excel's Alt+Enter). DuckDB's
        # line reader gives up on the whole file; a record is then what ends in CRLF, checked the same way.
        if not first.endswith(b"\r\n"):
            raise
        well_formed = f"length(line) <= {MAX_LINE} AND {well_formed}"
        raw = _CRLF_RECORDS
        numbered = f"SELECT ordinal, line FROM {_CRLF_RECORDS}"
        broken = con.sql(f"SELECT count(*) FROM {raw} WHERE line <> '' AND NOT ({well_formed})",
                         params=check).fetchall()[0][0]
    if broken:
        con.execute("DROP TABLE IF EXISTS _raw_reject_errors")
        malformed = [r[0] for r in con.sql(f"SELECT ordinal FROM ({numbered}) WHERE ordinal > 1 AND line <> '' "
                                           f"AND NOT ({well_formed}) ORDER BY ordinal", params=check).fetchall()]
    over_long = [] if raw == _CRLF_RECORDS else [
        r[0] for r in con.sql("SELECT DISTINCT line FROM _raw_reject_errors ORDER BY 1").fetchall()]
    con.execute("DROP TABLE IF EXISTS _raw_reject_errors")
    con.execute("DROP TABLE IF EXISTS _raw_reject_scans")
    select = projection(table, ts, {name: "VARCHAR" for name in names}, text_or_native)
    if not malformed and not over_long:
        # Every line stands on its own: DuckDB's reader does the parsing (the common, fast case).
        columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
        con.execute(f"CREATE TEMP VIEW {target} AS SELECT {select} FROM read_csv({literal(ts.location)}, "
                    f"header = false, skip = 1, delim = {literal(delimiter)}, quote = '\"', escape = '\"', "
                    f"auto_detect = false, columns = {columns}, max_line_size = {MAX_LINE})")
    else:  # parse the well-formed lines one by one; the others are set aside below
        values = ", ".join(f"CASE WHEN starts_with(f[{i}], '\"') THEN replace(f[{i}][2:-2], '\"\"', '\"') "
                           f"ELSE f[{i}] END AS {identifier(name)}" for i, name in enumerate(names, 1))
        con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} FROM (SELECT {values} FROM "
                    f"(SELECT ordinal, regexp_extract_all(line, {literal(fields)}, 1) AS f FROM ({numbered}) "
                    f"WHERE ordinal > 1 AND line <> '' AND NOT list_contains($malformed, ordinal)) ORDER BY ordinal)",
                    {**params, "malformed": malformed})
        con.execute("DROP TABLE IF EXISTS _raw_reject_errors")
        con.execute("DROP TABLE IF EXISTS _raw_reject_scans")
    # The physical line of a read line is its ordinal plus the over-long lines before it.
    gaps = [line - k for k, line in enumerate(over_long, 1)]
    rejects = [(n + sum(1 for g in gaps if g < n), f"malformed CSV (unbalanced quote or not {len(names)} fields)")
               for n in malformed] + [(line, f"longer than {MAX_LINE:,} bytes") for line in over_long]
    if rejects:
        con.executemany(f"INSERT INTO {target}_rejects VALUES (?, ?)",
                        [(line, f"line {line}: {reason}") for line, reason in sorted(rejects)])


def _stage_jsonl(con, ts: TableSource, table: Table, target: str, params: dict) -> None:
    # Every line, in file order (a line's number is its place in the table: rowid + 1, which costs
    # nothing where numbering it with a window cost 1.5 s for 5M lines); a line that is not JSON (or not
    # UTF-8) reads as NULL and is set aside.
    lines = identifier(f"{target}_lines")  # dropped with the view (staging.drop_staged)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {lines} AS SELECT json "
                "FROM read_ndjson_objects($path, ignore_errors = true)", params)
    con.execute(f"INSERT INTO {target}_rejects SELECT rowid + 1, 'line ' || (rowid + 1) || ': not valid JSON or "
                f"not UTF-8' FROM {lines} WHERE json IS NULL")
    # Every line's keys: a column that first appears late in the file must not be missed.
    keys = con.sql(f"SELECT DISTINCT unnest(json_keys(json)) AS k FROM {lines} WHERE json IS NOT NULL").fetchall()
    available = {k: "VARCHAR" for (k,) in keys}
    if not available:  # no valid line: no columns to check
        available = {ts.columns.get(c.name, c.name): "VARCHAR" for c in table.columns}
    # The values a table reads, taken out of each line in one parse (one parse per value cost 1.6 s more
    # for 5M lines of seven values): json_extract_string with a list of keys gives the list of values.
    wanted: list[str] = []

    def value(key: str, _type: str) -> str:
        wanted.append(key)
        return f"NULLIF(trim(_values[{len(wanted)}]), '')"

    select = projection(table, ts, available, value)
    keys_list = "[" + ", ".join(literal(k) for k in wanted) + "]::VARCHAR[]"
    # In line order: the lines table is scanned in the order it was written.
    con.execute(f"CREATE TEMP VIEW {target} AS SELECT {select} FROM (SELECT json_extract_string(json, {keys_list}) "
                f"AS _values FROM {lines} WHERE json IS NOT NULL)")
