"""Quoting names and values into SQL text where a bound parameter cannot go (DuckDB and PostgreSQL
quote alike): column names from a source file's header, mapping values from sources.toml."""

from __future__ import annotations


def identifier(name: str) -> str:
    """A quoted identifier (column, table or schema name)."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string literal."""
    return "'" + str(text).replace("'", "''") + "'"
