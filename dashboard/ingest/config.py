"""The sources config (``data/sources.toml``): which store feeds each canonical table, checked before
anything is read. The checks every source gets are here; what a kind of store needs (a file, a query, a
connector's tables) its reader checks (``dashboard.ingest.readers`` passes them in).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from dashboard.errors import DashboardError, read_toml
from dashboard.schema import TABLES, Table

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
    shown: str = ""  # where the rows come from as messages say it (never a credential): a path, "query"

    def describe(self) -> str:
        """Where the rows come from, without credentials."""
        return f"{self.source} ({self.kind}: {self.shown})" if self.shown else f"{self.source} ({self.kind})"


def load_sources(path: Path, base: Path, readers: Mapping[str, ModuleType]) -> dict[str, tuple[TableSource, ...]]:
    """Parse and check the sources config: every canonical table fed, every source known, each by the
    reader of its kind (``readers``: kind -> reader module). Returns, per canonical table, the sources that
    feed it in the order listed."""
    raw = read_toml(path, SourceError, f"{path}: sources file not found")
    sources = raw.get("sources", {})
    for name, src in sources.items():
        _check_source(path, name, src, readers)
    result = {}
    for table in TABLES:
        spec = raw.get("tables", {}).get(table.name)
        if spec is None and table.optional:
            continue
        if spec is None:
            raise SourceError(f"{path}: tables.{table.name}: missing; every canonical table needs a source")
        result[table.name] = _table_parts(path, base, table, spec, sources, readers)
    return result


def _check_source(path: Path, name: str, src: dict, readers: Mapping[str, ModuleType]) -> None:
    if src.get("kind") not in readers:
        raise SourceError(f"{path}: sources.{name}.kind: got {src.get('kind')!r}; expected one of {tuple(readers)}")
    if readers[src["kind"]].NEEDS_DSN and "dsn_env" not in src:
        raise SourceError(f"{path}: sources.{name}: a {src['kind']} source needs `dsn_env`")
    zone = src.get("timezone", "UTC")
    if zone not in _zones():
        raise SourceError(f"{path}: sources.{name}.timezone: unknown time zone {zone!r}")


def _table_parts(path: Path, base: Path, table: Table, spec: dict, sources: dict,
                 readers: Mapping[str, ModuleType]) -> tuple[TableSource, ...]:
    """The sources of one canonical table (``[tables.NAME]``), first-listed first."""
    names = spec.get("source")
    names = [names] if isinstance(names, str) else names
    if not names or not isinstance(names, list) or len(set(map(str, names))) != len(names):
        raise SourceError(f"{path}: tables.{table.name}.source: a source name or a list of distinct names")
    updated = spec.get("updated_column")
    if updated is not None and (not isinstance(updated, str) or not updated or any(
            n not in sources or not readers[sources[n]["kind"]].UPDATED_COLUMN for n in names)):
        raise SourceError(f"{path}: tables.{table.name}.updated_column: a column name, for postgres sources only")
    unknown = set(spec.get("columns", {})) - {c.name for c in table.columns}
    if unknown:
        raise SourceError(f"{path}: tables.{table.name}.columns: unknown canonical columns {sorted(unknown)}")
    parts = []
    for rank, src_name in enumerate(names):
        if src_name not in sources:
            raise SourceError(f"{path}: tables.{table.name}.source: unknown source {src_name!r}")
        src = sources[src_name]
        location, shown = readers[src["kind"]].check(path, base, table, spec, src)
        parts.append(TableSource(
            table=table.name, source=src_name, kind=src["kind"], location=location, shown=shown,
            dsn_env=src.get("dsn_env"), columns=dict(spec.get("columns", {})), settings=dict(src),
            timezone=src.get("timezone", "UTC"), state_dir=base / "state", rank=rank, updated_column=updated,
        ))
    return tuple(parts)


@functools.cache
def _zones() -> frozenset[str]:
    """The time zone names a source may give (reading them from the system's database took 0.05 s a
    call, four calls a build)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones() | {"UTC"})
