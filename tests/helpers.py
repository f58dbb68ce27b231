"""Builders the tests share (a fixture module is no place to import from): the demo's date and a
source store written from plain rows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from dashboard.schema import TABLES
from dashboard.snapshot import connect as open_snapshot

AS_OF = dt.date(2026, 11, 26)  # the demo's "today": its situations sit around this date
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def states(column) -> list:
    """A coloured state column of a shown table (clock, Art. 34) as its labels: each cell is a list holding
    the one label, drawn on the state's colour."""
    return [None if cell is None else cell[0] for cell in column]


def write_store(folder: Path, tables: dict[str, list[dict]]) -> Path:
    """Write every canonical table as JSON Lines (absent ones empty) plus a sources.toml for them."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ['[sources.fixture]', 'kind = "jsonl"', f'path = "{folder}"', ""]
    for table in TABLES:
        rows = tables.get(table.name, [])
        (folder / f"{table.name}.jsonl").write_text(
            "".join(json.dumps(r, default=str) + "\n" for r in rows), encoding="utf-8")
        lines += [f"[tables.{table.name}]", 'source = "fixture"', f'file = "{table.name}.jsonl"', ""]
    sources = folder / "sources.toml"
    sources.write_text("\n".join(lines), encoding="utf-8")
    return sources


def snapshot_rows(path: Path, sql: str) -> list[tuple]:
    """The rows of ``sql`` on a snapshot file, read-only."""
    con = open_snapshot(path)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


# Signing in through OIDC in AppTest (st.user): no provider runs there; the browser suite signs in
# through a real one.
ROLES_EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "roles.example.toml"
ISSUER = "http://127.0.0.1:9"
SIGNED = {"is_logged_in": True, "iss": ISSUER, "email_verified": True}
DPO = {**SIGNED, "email": "datenschutz@aelvirionek.example"}


def signed_in_app(monkeypatch, user: dict, page: str | None = None) -> AppTest:
    """The app in OIDC mode with the example roles, run once as ``user`` (on ``page`` if given)."""
    from dashboard.ui import signin

    monkeypatch.setenv("DASHBOARD_AUTH", "oidc")
    monkeypatch.setenv("DASHBOARD_ROLES_FILE", str(ROLES_EXAMPLE))
    monkeypatch.setattr(signin, "_provider_metadata", lambda _url: {"issuer": ISSUER})
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test",
                          "client_id": "x", "client_secret": "y",
                          "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration"}
    at.user = user
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def app(page: str | None = None) -> AppTest:
    """The app run once in AppTest (demo sign-in, unless a test says otherwise), on ``page`` if given."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


# The moment and the duration of a build are the only things two builds of the same files may differ in.
BUILD_MOMENT = {"snapshot_meta": ("built_at", "build_seconds")}


def _contents(path: Path) -> dict[str, pl.DataFrame]:
    con = open_snapshot(path)
    try:
        # The snapshot's tables and its views over its segments (not the segments' own catalogues).
        names = [r[0] for r in con.sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT internal ORDER BY 1").fetchall()]
        return {n: con.sql(f"SELECT * FROM {n}").pl().drop(BUILD_MOMENT.get(n, ())) for n in names}
    finally:
        con.close()


def assert_same_snapshot(a: Path, b: Path) -> None:
    """Same tables, same columns and types, same rows (derived tables are built in parallel, so their
    row order is not part of a snapshot: rows are compared sorted)."""
    left, right = _contents(a), _contents(b)
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].schema == right[name].schema, name
        columns = [c for c, t in left[name].schema.items() if t.is_nested() is False]
        assert left[name].sort(columns, nulls_last=True).equals(right[name].sort(columns, nulls_last=True)), name
