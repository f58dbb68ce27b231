"""Faults around exports in a real browser: the Streamlit process killed during an export job (after a
restart the job shows as failed, its partial file is gone, and a re-run succeeds); a download refused at
the click says why; a downloaded file does not stay at its address."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard import jobs
from tests.e2e.conftest import serve, server_pid, wait_idle


def test_server_killed_during_an_export(browser, demo_data_dir, tmp_path):
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    shutil.copytree(demo_data_dir / "snapshots", tmp_path / "snapshots")
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    with serve(tmp_path) as url:
        pid = server_pid(url)
        # The server's worker has taken a job and written half of its file ...
        job = store.create("deletion_worklist", {"system": "helpdesk", "as_of": dt.date(2026, 11, 26)},
                           "demo:dpo", "dpo")
        store.start(job.id)
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE jobs SET owner_pid = ? WHERE id = ?", (pid, job.id))
        partial = store.output_path(job, "loeschliste_helpdesk_2026-11-26.csv.part")
        partial.write_text("record_type;record_id\nticket;T1\n", encoding="utf-8")
        os.kill(pid, signal.SIGKILL)  # ... when the process is killed.
    assert store.get(job.id).status == "running"
    with serve(tmp_path) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/exporte")
        wait_idle(page)
        page.wait_for_selector("text=interrupted by restart", timeout=30_000)
        assert store.get(job.id).status == "failed"
        assert not partial.exists() and not partial.parent.exists()
        card = page.locator("[data-testid=stVerticalBlock]").filter(
            has=page.get_by_text("interrupted by restart")).filter(has=page.get_by_role("button", name="Erneut")).last
        card.get_by_role("button", name="Erneut").click()
        download = page.get_by_role("button", name=re.compile(r"^loeschliste_helpdesk_2026-11-26\.csv herunterladen"))
        download.first.wait_for(timeout=60_000)
        for attempt in range(2):  # a click that lands while the finished job's rerun redraws the button is lost
            try:
                with page.expect_download(timeout=20_000) as info:
                    download.first.click()
                break
            except PlaywrightTimeout:
                if attempt:
                    raise
                wait_idle(page)
        target = tmp_path / "download.csv"
        info.value.save_as(target)
        lines = target.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "record_type;record_id;category;retained_until;days_overdue;finding;erasure_ref"
        assert len(lines) > 100
        page.context.close()


def test_a_refused_download_says_why(browser, demo_data_dir, tmp_path, use_data_dir):
    """The file expired between showing its button and the click. Streamlit shows nothing when
    the data callable refuses; the page says why instead, and nothing is served."""
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    shutil.copytree(demo_data_dir / "snapshots", tmp_path / "snapshots")
    use_data_dir(tmp_path)
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    job = store.create("deletion_worklist", {"system": "helpdesk", "as_of": dt.date(2026, 11, 26)}, "demo:dpo", "dpo")
    assert jobs.execute(store, job.id).status == "succeeded"
    with serve(tmp_path) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/exporte")
        wait_idle(page)
        download = page.get_by_role("button", name=re.compile(r"^loeschliste_helpdesk_2026-11-26\.csv herunterladen"))
        download.first.wait_for(timeout=30_000)
        with sqlite3.connect(store.path) as db:  # it expires while the page is open
            db.execute("UPDATE jobs SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = ?", (job.id,))
        download.first.click()
        wait_idle(page)
        page.get_by_text("Download nicht möglich: Die Datei ist inzwischen abgelaufen").first.wait_for(timeout=30_000)
        assert [e["action"] for e in store.audit_entries()] == ["export"]  # no download was served
        page.context.close()


def test_a_downloaded_file_does_not_stay_at_its_address(browser, demo_data_dir):
    """After a click the file stayed at its /media address for anyone until later script runs.
    Now it answers while the browser fetches it and is gone seconds later (here: 2)."""
    with serve(demo_data_dir, DASHBOARD_DOWNLOAD_TTL_S="2") as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
        page.goto(f"{url}/loeschfristen")
        wait_idle(page)
        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name=re.compile(r"^Liste als CSV \(")).first.click()
        address = info.value.url
        assert "/media/" in address
        assert urllib.request.urlopen(address, timeout=10).status == 200  # still there right after the click
        time.sleep(3)
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(address, timeout=10)
        assert gone.value.code == 404
        page.context.close()
