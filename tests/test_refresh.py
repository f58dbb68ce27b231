"""The app's refresh runs the build in a child process: its progress, its result, and its
failure in one line, with the previous snapshot still live."""

from __future__ import annotations

import shutil

from dashboard import jobs
from dashboard.build import build_snapshot
from dashboard.snapshot import current_snapshot


def _refresh(tmp_path):
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    job, _ = store.create_refresh("demo:dpo", "dpo")
    return store, jobs.execute(store, job.id)


def test_the_child_builds_reports_progress_and_its_result(demo_data_dir, tmp_path, use_data_dir):
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    use_data_dir(tmp_path)
    store, done = _refresh(tmp_path)
    assert done.status == "succeeded", done.error
    assert done.progress == 100 and done.rows > 10_000
    from dashboard import refresh

    summary = refresh.summary(done)
    assert summary["snapshot"] == current_snapshot(tmp_path / "snapshots").name
    assert summary["tables"]["tickets"][0] > 0 and summary["unchanged"] == []


def test_a_failed_build_says_why_in_one_line_and_the_previous_snapshot_stays(demo_data_dir, tmp_path,
                                                                              use_data_dir, monkeypatch):
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    live = build_snapshot(data_dir=tmp_path).path
    use_data_dir(tmp_path)
    broken = tmp_path / "sources.toml"
    broken.write_text("[sources.helpdesk\n", encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_SOURCES", str(broken))
    _, done = _refresh(tmp_path)
    assert done.status == "failed"
    assert done.error.startswith("RefreshError: ") and "sources.toml: not valid TOML" in done.error, done.error
    assert "\n" not in done.error and "Traceback" not in done.error
    assert current_snapshot(tmp_path / "snapshots") == live
