"""Quoting names and values into SQL text where a bound parameter cannot go (DuckDB and PostgreSQL
quote alike): column names from a source file's header, mapping values from sources.toml."""

from __future__ import annotations


def identifier(name: str) -> str:
    """A quoted identifier (column, table or schema name)."""
    return '"' + str(name).replace('"', '""') + '"'


# The Europe/Berlin calendar date of a TIMESTAMPTZ expression (R1.2: dates are Berlin dates).
BERLIN_DATE = "timezone('Europe/Berlin', {})::DATE"


def literal(text: str) -> str:
    """A string literal."""
    return "'" + str(text).replace("'", "''") + "'"
