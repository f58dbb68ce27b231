"""Reading the operational stores into DuckDB staging tables, whatever their format.

``data/sources.toml`` says which store feeds each canonical table. A staging table has the canonical
column names and only the columns the schema lists; its values are still unvalidated (text for CSV
and JSON Lines, native types for Parquet and PostgreSQL). PostgreSQL is streamed through ADBC as
Arrow record batches, so a table never has to fit in Python's memory.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard import paths
from dashboard.errors import DashboardError, first_line
from dashboard.schema import BY_NAME, TABLES, Table
from dashboard.sqltext import identifier, literal

FILE_KINDS = ("csv", "jsonl", "parquet")
# Connector kinds know their system's tables and write the SQL themselves (dashboard.connectors).
CONNECTOR_KINDS = ("zammad", "listmonk")
KINDS = (*FILE_KINDS, "postgres", *CONNECTOR_KINDS)


# Written by ``dashboard demo`` into every store folder it generates; demo mode (no sign-in) is allowed
# only over a snapshot all of whose sources carry it.
DEMO_MARKER = ".dashboard-demo"


class SourceError(DashboardError, RuntimeError):
    """A source could not be read; the message names the source and the cause."""

    label = "errors.source"


@dataclass(frozen=True)
class TableSource:
    """One source feeding one canonical table (a table may have several, in the order listed)."""

    table: str
    source: str
    kind: str
    location: str  # a file path, the SQL query (postgres), or the system's name (connectors)
    dsn_env: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source column
    # The whole [sources.NAME] block: connector settings (mappings, schema, timezone).
    settings: dict = field(default_factory=dict, compare=False)
    timezone: str = "UTC"  # the zone of timestamps stored without one
    state_dir: Path | None = None  # DATA_DIR/state: what outlives snapshots (the consent ledger)
    rank: int = 0  # position in the table's source list: the first one names a merged person
    # postgres: a column of the query's rows that the source sets on every change (incremental refresh)
    updated_column: str | None = None

    def is_demo(self) -> bool:
        """Whether ``dashboard demo`` wrote this store (it leaves ``DEMO_MARKER`` beside the files)."""
        return self.kind in FILE_KINDS and (Path(self.location).parent / DEMO_MARKER).is_file()

    def describe(self) -> str:
        """Where the rows come from, without credentials."""
        if self.kind in CONNECTOR_KINDS:
            return f"{self.source} ({self.kind})"
        where = "query" if self.kind == "postgres" else self.location
        return f"{self.source} ({self.kind}: {where})"


def load_sources(path: Path | None = None, data_dir: Path | None = None) -> dict[str, tuple[TableSource, ...]]:
    """Parse and check the sources config: every canonical table fed, every source known.

    Returns, per canonical table, the sources that feed it in the order listed."""
    path = Path(path or paths.sources_file())
    base = Path(data_dir or paths.data_dir())
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{path}: sources file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: not valid TOML: {exc}") from None
    sources = raw.get("sources", {})
    for name, src in sources.items():
        _check_source(path, name, src)
    result = {}
    for table in TABLES:
        spec = raw.get("tables", {}).get(table.name)
        if spec is None and table.optional:
            continue
        if spec is None:
            raise SourceError(f"{path}: tables.{table.name}: missing; every canonical table needs a source")
        result[table.name] = _table_parts(path, base, table, spec, sources)
    return result


def _check_source(path: Path, name: str, src: dict) -> None:
    if src.get("kind") not in KINDS:
        raise SourceError(f"{path}: sources.{name}.kind: got {src.get('kind')!r}; expected one of {KINDS}")
    if src["kind"] in ("postgres", *CONNECTOR_KINDS) and "dsn_env" not in src:
        raise SourceError(f"{path}: sources.{name}: a {src['kind']} source needs `dsn_env`")
    zone = src.get("timezone", "UTC")
    if zone not in _zones():
        raise SourceError(f"{path}: sources.{name}.timezone: unknown time zone {zone!r}")


def _table_parts(path: Path, base: Path, table: Table, spec: dict, sources: dict) -> tuple[TableSource, ...]:
    """The sources of one canonical table (``[tables.NAME]``), first-listed first."""
    names = spec.get("source")
    names = [names] if isinstance(names, str) else names
    if not names or not isinstance(names, list) or len(set(map(str, names))) != len(names):
        raise SourceError(f"{path}: tables.{table.name}.source: a source name or a list of distinct names")
    updated = spec.get("updated_column")
    if updated is not None and (not isinstance(updated, str) or not updated
                                or any(sources.get(n, {}).get("kind") != "postgres" for n in names)):
        raise SourceError(f"{path}: tables.{table.name}.updated_column: a column name, for postgres sources only")
    unknown = set(spec.get("columns", {})) - {c.name for c in table.columns}
    if unknown:
        raise SourceError(f"{path}: tables.{table.name}.columns: unknown canonical columns {sorted(unknown)}")
    parts = []
    for rank, src_name in enumerate(names):
        if src_name not in sources:
            raise SourceError(f"{path}: tables.{table.name}.source: unknown source {src_name!r}")
        src = sources[src_name]
        parts.append(TableSource(
            table=table.name, source=src_name, kind=src["kind"], location=_location(path, base, table, spec, src),
            dsn_env=src.get("dsn_env"), columns=dict(spec.get("columns", {})), settings=dict(src),
            timezone=src.get("timezone", "UTC"), state_dir=base / "state", rank=rank, updated_column=updated,
        ))
    return tuple(parts)


def _location(path: Path, base: Path, table: Table, spec: dict, src: dict) -> str:
    """Where a table's rows come from: a file, a query, or the connector's system."""
    from dashboard import connectors

    kind = src["kind"]
    if kind in CONNECTOR_KINDS:
        if table.name not in connectors.feeds(kind):
            raise SourceError(f"{path}: tables.{table.name}: a {kind} source cannot feed it "
                              f"(it feeds {', '.join(connectors.feeds(kind))})")
        return kind
    if kind == "postgres":
        if "query" not in spec:
            raise SourceError(f"{path}: tables.{table.name}: a postgres source needs `query`")
        return spec["query"]
    if "file" not in spec or "path" not in src:
        raise SourceError(f"{path}: tables.{table.name}: a file source needs `path` and `file`")
    folder = Path(src["path"])
    return str((folder if folder.is_absolute() else base / folder) / spec["file"])


@functools.cache
def _zones() -> frozenset[str]:
    """The time zone names a source may give (reading them from the system's database took 0.05 s a
    call, four calls a build)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def _projection(table: Table, ts: TableSource, available: dict[str, str], expr) -> str:
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
            value = _in_zone(value, ts.timezone)
        parts.append(f"{value} AS {identifier(col.name)}")
    return ", ".join(parts)


# A timestamp that names its offset ("...Z", "...+02:00"); a date alone does not.
_HAS_OFFSET = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"


def _in_zone(value: str, zone: str) -> str:
    """A source's timestamps without an offset are local times in its ``timezone``: convert them, so
    clocks are not shifted by an hour; ones with an offset, and unreadable ones (rejected later with
    their reason), stay as they are."""
    text = f"CAST({value} AS VARCHAR)"
    local = f"TRY_CAST({text} AS TIMESTAMP)"
    return (f"CASE WHEN regexp_matches({text}, {literal(_HAS_OFFSET)}) OR {local} IS NULL THEN {text} "
            f"ELSE CAST(timezone({literal(zone)}, {local}) AS VARCHAR) END")


def _text_or_native(column: str, type_: str) -> str:
    # Empty text means "no value" in exported files; typed columns keep their native type.
    quoted = identifier(column)
    return f"NULLIF(trim({quoted}), '')" if type_ == "VARCHAR" else quoted


def stage(con: duckdb.DuckDBPyConnection, ts: TableSource, target: str) -> int:
    """Load one source table into staging table ``target``; returns the rows read.

    Lines that cannot be parsed at all (broken quoting, wrong number of fields, invalid UTF-8, not
    JSON) are not lost and do not stop the build: they go to ``<target>_rejects`` with their line
    number and the reason, and count as read.
    """
    table = BY_NAME[ts.table]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target}_rejects (source_row BIGINT, reason VARCHAR)")
    try:
        if ts.kind == "postgres":
            _stage_postgres(con, ts, table, target)
        elif ts.kind in CONNECTOR_KINDS:
            from dashboard import connectors

            connectors.stage(con, ts, table, target)
        else:
            path = Path(ts.location)
            if not path.is_file():
                raise SourceError(f"{ts.describe()}: file not found")
            params = {"path": ts.location}
            if path.stat().st_size == 0:  # an empty export: no rows (and no header to check)
                available = {ts.columns.get(c.name, c.name): "VARCHAR" for c in table.columns}
                select = _projection(table, ts, available, lambda c, _t: "NULL::VARCHAR")
                con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} LIMIT 0")
            elif ts.kind == "csv":
                _stage_csv(con, ts, table, target, params)
            elif ts.kind == "jsonl":
                _stage_jsonl(con, ts, table, target, params)
            else:
                described = con.sql("DESCRIBE SELECT * FROM read_parquet($path)", params=params).fetchall()
                select = _projection(table, ts, {row[0]: row[1] for row in described}, _text_or_native)
                con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} FROM read_parquet($path)", params)
    except SourceError:
        raise
    except (duckdb.Error, OSError) as exc:
        if writing_failed(exc):
            raise  # the snapshot could not be written (disk full): not the source's fault
        raise SourceError(f"{ts.describe()}: table {ts.table}: {first_line(exc)}") from exc
    staged = con.sql(f"SELECT count(*) FROM {target}").fetchall()[0][0]
    return staged + con.sql(f"SELECT count(*) FROM {target}_rejects").fetchall()[0][0]


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
    well_formed = (f"CASE WHEN NOT contains(line, '\"') "
                   f"THEN length(line) - length(replace(line, {literal(delimiter)}, '')) = {len(names) - 1} "
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
    select = _projection(table, ts, {name: "VARCHAR" for name in names}, _text_or_native)
    if not malformed and not over_long:
        # Every line stands on its own: DuckDB's reader does the parsing (the common, fast case).
        columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
        con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} FROM read_csv($path, header = false, skip = 1, "
                    f"delim = $d, quote = '\"', escape = '\"', auto_detect = false, columns = {columns}, "
                    f"max_line_size = {MAX_LINE})", {**params, "d": delimiter})
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
    # Every line, in file order; a line that is not JSON (or not UTF-8) reads as NULL and is set aside.
    con.execute("CREATE OR REPLACE TEMP TABLE _jsonl AS SELECT row_number() OVER () AS line, json "
                "FROM read_ndjson_objects($path, ignore_errors = true)", params)
    con.execute(f"INSERT INTO {target}_rejects SELECT line, 'line ' || line || ': not valid JSON or not UTF-8' "
                "FROM _jsonl WHERE json IS NULL")
    # Every line's keys: a column that first appears late in the file must not be missed.
    keys = con.sql("SELECT DISTINCT unnest(json_keys(json)) AS k FROM _jsonl WHERE json IS NOT NULL").fetchall()
    available = {k: "VARCHAR" for (k,) in keys}
    if not available:  # no valid line: no columns to check
        available = {ts.columns.get(c.name, c.name): "VARCHAR" for c in table.columns}
    select = _projection(
        table, ts, available,
        lambda c, _t: f"NULLIF(trim(json ->> '{c.replace(chr(39), chr(39) * 2)}'), '')",
    )
    con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} FROM _jsonl WHERE json IS NOT NULL ORDER BY line")
    con.execute("DROP TABLE _jsonl")


def _stage_postgres(con: duckdb.DuckDBPyConnection, ts: TableSource, table: Table, target: str) -> None:
    with postgres_cursor(ts) as cur:
        stream_query(con, cur, ts, table, target, ts.location)


@contextlib.contextmanager
def postgres_cursor(ts: TableSource) -> Iterator:
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


# Incremental refresh (dashboard.incremental) for PostgreSQL: what the rows look like now, cheaply.
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


def postgres_state(ts: TableSource) -> bytes | None:
    """A postgres source's rows as ``changes_seen`` describes them, when its table names the column the
    source sets on every change (``updated_column``); None otherwise (read every time)."""
    if ts.updated_column is None:
        return None
    query = ts.location.strip().rstrip(";")
    with postgres_cursor(ts) as cur:
        return changes_seen(cur, [(f"({query}) AS _q", f"_q.{identifier(ts.updated_column)}")])


def stream_query(con, cur, ts: TableSource, table: Table, target: str, sql: str) -> None:
    """Run ``sql`` on PostgreSQL and stream its rows (Arrow record batches) into staging ``target``."""
    cur.execute(sql)
    reader = cur.fetch_record_batch()
    available = {f.name: "NATIVE" for f in reader.schema}
    select = _projection(table, ts, available, lambda c, _t: identifier(c))
    con.register("_pg_stream", reader)
    try:
        con.execute(f"CREATE TEMP TABLE {target} AS SELECT {select} FROM _pg_stream")
    finally:
        con.unregister("_pg_stream")


def writing_failed(exc: BaseException) -> bool:
    """The error is about writing the snapshot (disk full, file too large), not about reading a source."""
    text = str(exc)
    return ".building-" in text or any(m in text for m in ("No space left", "File too large", "Disk full"))
