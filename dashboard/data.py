"""The read side of a snapshot: named queries in, polars frames out, personal data masked.

Plain Python (no Streamlit), so the CLI, export jobs and tests use exactly what the pages use.
Masking happens here, before any frame reaches a view, so a new page cannot forget it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from dashboard import access, queries, schema, snapshot

# Columns that identify or describe a person, and free text that may name or describe people (staff
# or subjects): shown only to roles allowed to see personal data. Marked on the schema.
PERSONAL_COLUMNS = schema.personal_columns()
FREE_TEXT_COLUMNS = schema.free_text_columns()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to one snapshot version, its segments attached (callers key caches by the
    versioned path)."""
    return snapshot.connect(path)


_COMMENTS_AND_STRINGS = re.compile(r"--[^\n]*|'(?:[^']|'')*'")


def bound_params(name: str, params: dict) -> dict:
    """The subset of ``params`` that query ``name`` uses (DuckDB rejects unused named parameters); a
    ``$name`` in a comment or a string literal is not a parameter."""
    code = _COMMENTS_AND_STRINGS.sub(" ", queries.sql(name))
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", code))
    missing = used - params.keys()
    if missing:
        raise KeyError(f"query {name!r} needs parameters {sorted(missing)}")
    return {k: v for k, v in params.items() if k in used}


def run(con: duckdb.DuckDBPyConnection, name: str, **params) -> pl.DataFrame:
    """Run named query ``name`` with bound parameters on its own cursor (safe across threads)."""
    cur = con.cursor()
    try:
        return cur.sql(queries.sql(name), params=bound_params(name, params)).pl()
    finally:
        cur.close()


@dataclass(frozen=True)
class Page:
    """The first rows of a list query, how many rows it has in all, and whether some were left out
    (as datasette's ``Results(rows, truncated)``): paging belongs here, not in the SQL."""

    frame: pl.DataFrame
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > self.frame.height


def run_page(con: duckdb.DuckDBPyConnection, name: str, limit: int | None, **params) -> Page:
    """Run list query ``name`` for at most ``limit`` rows (None: all). The total comes from the rows
    themselves when they are fewer than the limit, else from query ``<name>_count`` where one exists
    (counting from aggregates), else by counting the query's rows."""
    sql = queries.sql(name).strip().rstrip(";")
    bound = bound_params(name, params)
    cur = con.cursor()
    try:
        if limit is None:
            frame = cur.sql(sql, params=bound).pl()
            return Page(frame, frame.height)
        frame = cur.sql(f"SELECT * FROM ({sql}) LIMIT {int(limit)}", params=bound).pl()
        if frame.height < limit:
            return Page(frame, frame.height)
        counter = f"{name}_count"
        if queries.exists(counter):
            total = cur.sql(queries.sql(counter), params=bound_params(counter, params)).fetchall()[0][0]
        else:
            total = cur.sql(f"SELECT count(*) FROM ({sql})", params=bound).fetchall()[0][0]
        return Page(frame, int(total))
    finally:
        cur.close()


def may_see_personal_data(role: str) -> bool:
    """Whether a role sees names, e-mails and subject ids: the capability table's (``access.GRANTS``)."""
    return access.sees_personal_data(role)


def hidden_columns(columns: list[str], role: str) -> list[str]:
    """The columns ``role`` may not see: for pages (mask_personal) and for exports alike."""
    if may_see_personal_data(role):
        return []
    return [c for c in columns if c in PERSONAL_COLUMNS or c in FREE_TEXT_COLUMNS]


def mask_personal(frame: pl.DataFrame, role: str) -> pl.DataFrame:
    """The frame without the columns ``role`` may not see: left out, not shown as whole columns of
    placeholders (a masked id would also read as a real value to whatever uses it next)."""
    hidden = hidden_columns(frame.columns, role)
    return frame.drop(hidden) if hidden else frame


def as_text(column: pl.Series, fn: Callable[[object], str]) -> pl.Series:
    """``fn`` of every value of ``column``, as text (a missing value stays missing).

    Computed in plain Python rather than with ``map_elements``: a Python function inside a Polars
    expression runs on Polars' thread pool, and there it deadlocks the whole server against another
    session's ``to_pandas`` or ``to_numpy`` (pola-rs/polars#26821, #27396; it hung the 20-session load
    test one run in three). No Python callback ever runs inside Polars in this project.
    """
    return pl.Series(column.name, [None if v is None else fn(v) for v in column.to_list()], dtype=pl.String)
