"""Quoting names and values into SQL text where a bound parameter cannot go (DuckDB and PostgreSQL
quote alike): column names from a source file's header, mapping values from sources.toml."""

from __future__ import annotations


def identifier(name: str) -> str:
    """A quoted identifier (column, table or schema name)."""
    return '"' + str(name).replace('"', '""') + '"'


# The company's time zone, said once (R1.2: dates are Berlin dates): dashboard.deadlines' BERLIN, the
# SQL text below and the macros every build defines (queries use berlin_date(ts), berlin_time(ts),
# berlin_midnight(day)).
BERLIN_ZONE = "Europe/Berlin"
BERLIN_DATE = f"timezone('{BERLIN_ZONE}', {{}})::DATE"  # the calendar date of a TIMESTAMPTZ
BERLIN_MIDNIGHT = f"timezone('{BERLIN_ZONE}', {{}}::TIMESTAMP)"  # the moment a Berlin date begins
BERLIN_MACROS = f"""
CREATE OR REPLACE MACRO berlin_date(ts) AS {BERLIN_DATE.format('ts')};
CREATE OR REPLACE MACRO berlin_time(ts) AS timezone('{BERLIN_ZONE}', ts);
CREATE OR REPLACE MACRO berlin_midnight(day) AS {BERLIN_MIDNIGHT.format('day')};
"""


def literal(text: str) -> str:
    """A string literal."""
    return "'" + str(text).replace("'", "''") + "'"
