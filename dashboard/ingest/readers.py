"""The one place that says which kind of store is read by which module: adding a kind of source is a
module with ``KINDS``, ``NEEDS_DSN``, ``UPDATED_COLUMN``, ``check``, ``stage``, ``state`` and ``report``, and one line
in ``READERS``. Everything else asks here: loading the config, staging a table, whether a source changed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

import duckdb

from dashboard import paths
from dashboard.errors import first_line
from dashboard.ingest import connectors, files, postgres
from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.config import load_sources as _load
from dashboard.ingest.staging import writing_failed
from dashboard.schema import BY_NAME

log = logging.getLogger(__name__)

# kind -> reader module (each reads the kinds its KINDS lists)
READERS: dict[str, ModuleType] = {kind: reader for reader in (files, postgres, connectors) for kind in reader.KINDS}


def load_sources(path: Path | None = None, data_dir: Path | None = None) -> dict[str, tuple[TableSource, ...]]:
    """The sources config (default ``DASHBOARD_SOURCES`` or ``data/sources.toml``), checked: per canonical
    table, the sources that feed it in the order listed."""
    return _load(Path(path or paths.sources_file()), Path(data_dir or paths.data_dir()), READERS)


def stage(con: duckdb.DuckDBPyConnection, ts: TableSource, target: str) -> None:
    """Stage one source table as ``target`` (a view or a table: ``dashboard.ingest.staging``).

    Lines that cannot be parsed at all (broken quoting, wrong number of fields, invalid UTF-8, not
    JSON) are not lost and do not stop the build: they go to ``<target>_rejects`` with their line
    number and the reason, and count as read. What a reader finds about the store itself (a setting
    that weakens proof, a damaged ledger line) goes to ``<target>_findings``.
    """
    table = BY_NAME[ts.table]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target}_rejects (source_row BIGINT, reason VARCHAR)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target}_findings (source VARCHAR, finding VARCHAR, subject VARCHAR)")
    try:
        READERS[ts.kind].stage(con, ts, table, target)
    except SourceError:
        raise
    except (duckdb.Error, OSError) as exc:
        if writing_failed(exc):
            raise  # the snapshot could not be written (disk full): not the source's fault
        raise SourceError(f"{ts.describe()}: table {ts.table}: {first_line(exc)}") from exc


def state(ts: TableSource) -> bytes | None:
    """What one source holds now, for incremental refresh: a file's content hash; for PostgreSQL, the row
    count and newest change of the rows it tracks. None for a missing file, a source that says nothing
    about its changes, or one that cannot be asked (then it is read)."""
    try:
        return READERS[ts.kind].state(ts)
    except SourceError as exc:  # unreachable, or the schema is not what the connector knows
        log.info("%s: cannot tell whether %s changed (%s): reading it", ts.describe(), ts.table, type(exc).__name__)
        return None


def report(table_sources: dict[str, tuple[TableSource, ...]]) -> list[tuple[bool, str]]:
    """``python -m dashboard sources check``: per source and table, in one line each, what is there and
    what is missing, before the first build (nothing is read into a snapshot)."""
    lines = []
    for table, parts in table_sources.items():
        for ts in parts:
            lines += [(ok, f"{ts.source} ({ts.kind}): {table}: {text}") for ok, text in READERS[ts.kind].report(ts)]
    return lines


def is_demo(ts: TableSource) -> bool:
    """Whether ``dashboard demo`` generated this store (only files can be)."""
    return ts.kind in files.KINDS and files.is_demo(ts)
