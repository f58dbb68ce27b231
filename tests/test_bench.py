"""The bench's own measurements on the small demo (the large profile runs only in ``make bench``): a
figure that times the wrong thing looks like a result, so each one is checked here for what it runs."""

from __future__ import annotations

import json
import threading

import duckdb

from bench import run as bench
from dashboard import data
from dashboard.snapshot import current_snapshot


def test_floor_times_the_two_large_tables_on_a_copy_and_leaves_the_snapshot_alone(demo_data_dir):
    live = current_snapshot(demo_data_dir / "snapshots")
    _, _, out = bench._child(f"import sys; sys.argv = ['', {str(demo_data_dir / 'snapshots')!r}]\n" + bench.FLOOR)
    assert float(out.strip().splitlines()[-1]) > 0
    con = duckdb.connect(str(live), read_only=True)
    try:  # the floor drops and rebuilds the tables in its copy only
        assert con.sql("SELECT count(*) FROM retention_records").fetchall()[0][0] > 0
        assert con.sql("SELECT count(*) FROM consent_spans").fetchall()[0][0] > 0
    finally:
        con.close()


def test_sql_alone_replays_the_page_lists_too(demo_data_dir, monkeypatch):
    """Löschfristen's due list runs through data.run_page; "SQL alone" must run it again (it once
    replayed only data.run, so the page looked 3.3x its SQL)."""
    replayed: list[str] = []
    run_page = data.run_page

    def watching(con, name, limit, **params):
        if threading.current_thread() is threading.main_thread():  # pages run in AppTest's script thread
            replayed.append(name)
        return run_page(con, name, limit, **params)

    monkeypatch.setattr(data, "run_page", watching)
    monkeypatch.setattr(bench, "PAGES", ("views/retention.py",))
    monkeypatch.setattr(bench, "results", [])
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(demo_data_dir))  # restored after step_pages sets it
    from dashboard.ui import warmup

    monkeypatch.setattr(warmup, "start", warmup.start)  # step_pages replaces it; put it back afterwards
    bench.step_pages(demo_data_dir)
    assert "retention_due_list" in replayed
    figures = {r["metric"]: r["value"] for r in bench.results}
    assert figures["retention: SQL alone"] > 0
    assert data.run_page is watching  # step_pages restored what it found


FIRST_VIEW = """
import json, os, sys, threading
from dashboard import data
from bench import run as bench
ran = {"warm-up": [], "page": []}
run = data.run

def watching(con, name, **params):
    ran["warm-up" if threading.current_thread() is threading.main_thread() else "page"].append(name)
    return run(con, name, **params)

data.run = watching
os.chdir(sys.argv[1])
bench._after_warmup(str(bench.ROOT / "dashboard" / "app.py"), "views/overview.py")
print(json.dumps(ran))
"""


def test_first_view_after_the_warm_up_reads_what_the_warm_up_filled(demo_data_dir):
    """With a relative --data-dir the bench once warmed another cache key than the server reads, and
    every page paid a whole cold run. The overview's figures are all warmed: the page runs none again.
    In a fresh process, as in the bench: what other tests left in Streamlit's caches must not count."""
    env = {"DASHBOARD_DATA_DIR": demo_data_dir.name, "DASHBOARD_AUTH": "demo"}  # relative, as `--data-dir bench/data`
    _, _, out = bench._child(FIRST_VIEW, env, str(demo_data_dir.parent))
    ran = json.loads(out.strip().splitlines()[-1])
    assert ran["warm-up"]
    assert not set(ran["page"]) & set(ran["warm-up"]), ran["page"]
