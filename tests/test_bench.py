"""The bench's own measurements on the small demo (the large profile runs only in ``make bench``): a
figure that times the wrong thing looks like a result, so each one is checked here for what it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from bench import run as bench
from dashboard import data
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot


def test_floor_times_the_two_large_tables_on_a_copy_and_leaves_the_snapshot_alone(demo_data_dir):
    live = current_snapshot(demo_data_dir / "snapshots")
    _, peak, seconds = bench._child("floor", None, str(demo_data_dir / "snapshots"))
    assert seconds > 0 and peak > 0
    con = open_snapshot(live)
    try:  # the floor drops and rebuilds the tables in its copy only
        assert con.sql("SELECT count(*) FROM retention_records").fetchall()[0][0] > 0
        assert con.sql("SELECT count(*) FROM consent_spans").fetchall()[0][0] > 0
    finally:
        con.close()


def test_every_child_is_a_function_of_the_children_module():
    """The bench's child code lives in bench/children.py (ruff and renames see it), not in strings."""
    from bench import children

    source = (bench.ROOT / "bench" / "run.py").read_text(encoding="utf-8")
    called = set(__import__("re").findall(r'_child\("(\w+)"', source))
    assert called and called <= set(children.CHILDREN)
    assert "python -c" not in source and '"-c"' not in source


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
from dashboard import ui
from dashboard.ui import live
from dashboard.snapshot import connect as open_snapshot
at = live.now()
live.now = ui.now = lambda: at  # one minute for warm-up and page: a minute turning between is no cache miss
os.chdir(sys.argv[1])
bench._after_warmup(str(bench.ROOT / "dashboard" / "app.py"), "views/overview.py")
print(json.dumps(ran))
"""


def test_first_view_after_the_warm_up_reads_what_the_warm_up_filled(demo_data_dir):
    """With a relative --data-dir the bench once warmed another cache key than the server reads, and
    every page paid a whole cold run. The overview's figures are all warmed: the page runs none again.
    In a fresh process, as in the bench: what other tests left in Streamlit's caches must not count."""
    env = {"DASHBOARD_DATA_DIR": demo_data_dir.name, "DASHBOARD_AUTH": "demo"}  # relative, as `--data-dir bench/data`
    child = subprocess.run([sys.executable, "-c", FIRST_VIEW, str(demo_data_dir.parent)], cwd=bench.ROOT,
                           env={**os.environ, **env}, capture_output=True, text=True, check=True)
    ran = json.loads(child.stdout.strip().splitlines()[-1])
    assert ran["warm-up"]
    assert not set(ran["page"]) & set(ran["warm-up"]), ran["page"]
