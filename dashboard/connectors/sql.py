"""Quoting for the SQL a connector writes from its config (list names, group names, schema)."""

from __future__ import annotations


def literal(text: str) -> str:
    """A PostgreSQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A PostgreSQL identifier (a schema or table name from the config)."""
    return '"' + str(name).replace('"', '""') + '"'
