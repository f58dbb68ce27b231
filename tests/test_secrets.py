"""A connection string's password never reaches an output: not the command line's stderr or
stdout, not the job store, not the data directory, not the DPO's sidebar. libpq repeats a malformed URI
in its message, password included; the build passes on only the SQLSTATE and a fixed text naming the
source and the environment variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import jobs
from dashboard.build import build_snapshot
from dashboard.ingest.config import DEMO_MARKER
from dashboard.ui.sidebar import REFRESH_KEY
from tests.helpers import write_store

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Geheim-Passwort-42"
MALFORMED = {
    "percent": f"postgresql://cockpit:{PASSWORD}%zz@127.0.0.1:1/zammad",  # an invalid %-escape
    "at sign": f"postgresql://cockpit:{PASSWORD}@x@127.0.0.1:1/zammad",  # an unescaped @ in the password
    "bracket": f"postgresql://cockpit:{PASSWORD}@[::1:1/zammad",  # an unclosed [
    "refused": f"postgresql://cockpit:{PASSWORD}@127.0.0.1:1/zammad",  # well-formed, nobody listening
}


@pytest.fixture
def pg_sources(tmp_path) -> Path:
    """The demo-like store from files, with contacts read from a PostgreSQL query."""
    sources = write_store(tmp_path / "src", {})
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.contacts]\nsource = "fixture"\nfile = "contacts.jsonl"',
        '[tables.contacts]\nsource = "helpdesk_db"\nquery = "SELECT 1 AS contact_id"')
    text += '\n[sources.helpdesk_db]\nkind = "postgres"\ndsn_env = "COCKPIT_TEST_DSN"\n'
    sources.write_text(text, encoding="utf-8")
    return sources


def _files_text(folder: Path) -> str:
    return "".join(p.read_bytes().decode("utf-8", errors="replace") for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("dsn", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_connection_error_shows_no_password(dsn, pg_sources, tmp_path, use_data_dir, monkeypatch):
    data_dir = use_data_dir(tmp_path / "data")
    ok = write_store(tmp_path / "ok", {})
    (ok.parent / DEMO_MARKER).touch()  # generated data: the app may run in demo mode over it
    build_snapshot(ok, data_dir=data_dir)  # a live snapshot for the app
    env = {**os.environ, "COCKPIT_TEST_DSN": dsn, "DASHBOARD_DATA_DIR": str(data_dir)}
    cli = subprocess.run([sys.executable, "-m", "dashboard", "snapshot", "--sources", str(pg_sources)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2
    assert PASSWORD not in cli.stdout + cli.stderr
    assert "$COCKPIT_TEST_DSN" in cli.stderr and "helpdesk_db" in cli.stderr

    # The same build started from the app: the job's error, the job store, the data dir, the sidebar.
    monkeypatch.setenv("COCKPIT_TEST_DSN", dsn)
    monkeypatch.setenv("DASHBOARD_SOURCES", str(pg_sources))
    store = jobs.JobStore()
    job, _ = store.create_refresh("demo:dpo", "dpo")
    failed = jobs.execute(store, job.id)
    assert failed.status == "failed" and "COCKPIT_TEST_DSN" in failed.error
    assert PASSWORD not in failed.error
    assert PASSWORD not in _files_text(data_dir)  # jobs.sqlite, its WAL, snapshots, KPI history
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.session_state[REFRESH_KEY] = job.id
    at.run()
    shown = [e.value.replace("\\", "") for e in at.sidebar.error]  # Markdown-escaped
    assert any("COCKPIT_TEST_DSN" in text for text in shown), shown
    assert not any(PASSWORD in str(e.value) for e in [*at.sidebar.error, *at.error, *at.markdown, *at.caption])
