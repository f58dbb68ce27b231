"""Checking a connector's mappings from sources.toml before anything is read."""

from __future__ import annotations

from dashboard.ingest.config import SourceError, TableSource
from dashboard.schema import BY_NAME


def check_mapping(ts: TableSource, key: str, table: str, column: str) -> None:
    """Every value of ``[sources.NAME.<key>]`` must be one the canonical ``table.column`` allows."""
    allowed = BY_NAME[table].column(column).enum
    wrong = {k: v for k, v in ts.settings.get(key, {}).items() if v not in allowed}
    if wrong:
        raise SourceError(f"{ts.describe()}: {key}: {wrong} map to no {table}.{column} (allowed: {', '.join(allowed)})")
