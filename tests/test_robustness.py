"""Bad input, faults, load and security: each promise of docs/RELIABILITY.md tried for real."""

from __future__ import annotations

import concurrent.futures
import csv
import datetime as dt
import io
import json
import logging
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import data, jobs
from dashboard.build import BuildError, build_snapshot
from dashboard.ingest.config import SourceError
from dashboard.pages import SCRIPTS
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot, segments_named
from tests.helpers import write_store

ROOT = Path(__file__).resolve().parent.parent

# --- bad source data ----------------------------------------------------------------------------

TICKET_COLUMNS = ("ticket_id", "contact_id", "opened_at", "closed_at", "status", "category", "message_count")
GARBAGE = st.one_of(
    st.just(""), st.just("31.02.2026"), st.just("not a date"), st.just("-1"), st.just("NaN"), st.just("9" * 40),
    st.just("=HYPERLINK(\"x\")"), st.just("' OR 1=1 --"), st.just("Jörg; \"quoted\", comma"),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=30),
    st.builds(lambda n: "x" * n, st.integers(1000, 20_000)),
)


@st.composite
def ticket_rows(draw) -> list[dict]:
    rows = []
    for i in range(draw(st.integers(0, 25))):
        row = {"ticket_id": f"T{i}", "contact_id": f"C{i % 5}", "opened_at": "2026-01-01T08:00:00Z",
               "closed_at": "2026-02-01T08:00:00Z", "status": "closed", "category": "network", "message_count": "3"}
        for column in draw(st.lists(st.sampled_from(TICKET_COLUMNS), max_size=3)):
            row[column] = draw(GARBAGE)
        if i and draw(st.booleans()) and draw(st.booleans()):
            row["ticket_id"] = "T0"  # a duplicate key
        rows.append(row)
    return rows


@st.composite
def bad_sources(draw) -> dict:
    """A CSV tickets file and a JSON Lines requests file, broken in the ways real exports break."""
    columns = list(TICKET_COLUMNS)
    dropped = draw(st.lists(st.sampled_from(TICKET_COLUMNS), max_size=2, unique=True))
    columns = [c for c in columns if c not in dropped] + draw(st.lists(st.sampled_from(["extra", "notes"]),
                                                                       max_size=2, unique=True))
    return {
        "tickets": draw(ticket_rows()), "columns": columns,
        "csv_shape": draw(st.sampled_from(["normal", "empty", "header_only"])),
        "csv_junk": draw(st.lists(st.sampled_from([b"\xff\xfe broken,\xe4\n", b"a,b,c,d,e,f,g,h,i,j\n", b"\n"]),
                                  max_size=3)),
        "requests": draw(st.lists(st.fixed_dictionaries({
            "request_id": st.sampled_from(["Q1", "Q2", "Q3", ""]), "right": st.sampled_from(["access", "telepathy"]),
            "channel": st.sampled_from(["email", "pigeon"]), "received_at": st.one_of(st.just("2026-10-01T09:00:00Z"),
                                                                                      GARBAGE),
            "status": st.sampled_from(["in_progress", "completed", "???"]),
        }), max_size=8)),
        "jsonl_junk": draw(st.lists(st.sampled_from([b"{broken\n", b"[1, 2]\n", b"\"just a string\"\n",
                                                     b"{\"request_id\": \"Q\xe4\"}\n"]), max_size=3)),
    }


def _write_bad_store(folder: Path, spec: dict) -> tuple[Path, dict[str, int]]:
    """Write the spec as sources; returns the sources file and the data lines written per table."""
    sources = write_store(folder, {})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=spec["columns"], extrasaction="ignore", lineterminator="\n")
    if spec["csv_shape"] != "empty":
        writer.writeheader()
    if spec["csv_shape"] == "normal":
        for row in spec["tickets"]:
            writer.writerow({c: row.get(c, "") for c in spec["columns"]})
    raw = out.getvalue().encode("utf-8")
    junk = spec["csv_junk"] if spec["csv_shape"] == "normal" else []
    (folder / "tickets.csv").write_bytes(raw + b"".join(junk))
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.tickets]\nsource = "fixture"\nfile = "tickets.jsonl"',
        '[tables.tickets]\nsource = "csvfix"\nfile = "tickets.csv"')
    sources.write_text(text + f'\n[sources.csvfix]\nkind = "csv"\npath = "{folder}"\n', encoding="utf-8")
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in spec["requests"]) + b"".join(spec["jsonl_junk"])
    (folder / "requests.jsonl").write_bytes(lines)
    csv_rows = len(spec["tickets"]) if spec["csv_shape"] == "normal" else 0
    return sources, {"tickets": csv_rows + sum(1 for j in junk if j.strip()),
                     "requests": len(spec["requests"]) + len(spec["jsonl_junk"])}


@pytest.fixture(scope="module")
def good_snapshots(tmp_path_factory) -> Path:
    """A data dir with one published snapshot, copied as "the previous snapshot" of each example."""
    base = tmp_path_factory.mktemp("good")
    build_snapshot(write_store(base / "src", {}), data_dir=base / "data")
    return base / "data"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(spec=bad_sources())
def test_bad_sources_never_crash_and_lose_nothing(tmp_path_factory, good_snapshots, spec):
    import shutil

    tmp = tmp_path_factory.mktemp("bad")
    data_dir = tmp / "data"
    shutil.copytree(good_snapshots, data_dir)
    previous = current_snapshot(data_dir / "snapshots")
    sources, written = _write_bad_store(tmp / "src", spec)
    try:
        result = build_snapshot(sources, data_dir=data_dir)
    except (SourceError, BuildError) as exc:
        message = str(exc)
        assert "csvfix (csv:" in message or "fixture (jsonl:" in message, message
        assert "table tickets" in message or "table requests" in message, message
        assert current_snapshot(data_dir / "snapshots") == previous
        assert not [p for p in (data_dir / "snapshots").iterdir() if p.name.startswith(".building-")]
        return
    con = open_snapshot(result.path)
    try:
        for table, (read, accepted, rejected) in result.tables.items():
            assert read == accepted + rejected, table
            kept = con.sql("SELECT count(*) FROM rejected_rows WHERE table_name = $t", params={"t": table}).fetchall()
            assert kept[0][0] == rejected, table
            assert con.sql(f'SELECT count(*) FROM "{table}"').fetchall()[0][0] == accepted, table
        for table, lines in written.items():
            assert result.tables[table][0] == lines, (table, result.tables[table], lines)
        reasons = con.sql("SELECT reason FROM rejected_rows").fetchall()
        assert all(r[0] for r in reasons)  # every rejected row says why
    finally:
        con.close()


# --- faults ---------------------------------------------------------------------------------------


def _limited(max_bytes: int):
    """Run a child with a file-size limit: writes beyond it fail (EFBIG) as on a full disk."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


def test_disk_full_during_build_fails_cleanly_and_keeps_the_previous_snapshot(demo_data_dir, tmp_path):
    import shutil

    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    previous = build_snapshot(data_dir=tmp_path).path
    proc = subprocess.run([sys.executable, "-m", "dashboard", "snapshot", "--full"], cwd=ROOT, capture_output=True,
                          text=True, env={**_env(), "DASHBOARD_DATA_DIR": str(tmp_path)},
                          preexec_fn=_limited(1_000_000), timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    error = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert error and "snapshot build failed" in error[0] and "previous snapshot stays live" in error[0]
    assert "Traceback" not in proc.stderr
    assert current_snapshot(tmp_path / "snapshots") == previous
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir() if not p.name.startswith(".lock")) == sorted(
        [previous.name, "CURRENT", "segments"])
    # No half-written segment stays behind, and the live snapshot still reads every one it names.
    assert {p.name for p in (tmp_path / "snapshots" / "segments").iterdir()} == segments_named(previous)
    con = open_snapshot(previous)
    try:
        assert con.sql("SELECT count(*) FROM retention_records").fetchall()[0][0] > 0
    finally:
        con.close()


def test_disk_full_during_export_offers_nothing_half_written(demo_data_dir, tmp_path, use_data_dir):
    import shutil

    shutil.copytree(demo_data_dir / "snapshots", tmp_path / "snapshots")
    params = json.dumps({"as_of": "2026-11-26", "window_days": 30, "categories": [], "systems": [],
                         "statuses": [], "until_from": None, "until_to": None})
    proc = subprocess.run([sys.executable, "-m", "dashboard", "export", "list_csv", "--query", "retention_due_list",
                           "--params", params, "--user", "dsb", "--role", "dpo"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**_env(), "DASHBOARD_DATA_DIR": str(tmp_path)}, preexec_fn=_limited(150_000))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "failed" in proc.stderr and "Traceback" not in proc.stderr
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    job = store.list()[0]
    assert job.status == "failed" and "File too large" in job.error and job.file is None
    assert not (tmp_path / "exports" / job.id).exists()  # no partial file to download
    use_data_dir(tmp_path)
    done = jobs.execute(store, store.create(job.kind, job.params, "dsb", "dpo").id)  # the re-run, with space
    assert done.error is None, done.error
    assert done.status == "succeeded" and done.rows > 150


def test_missing_source_file_keeps_the_previous_snapshot(tmp_path):
    sources = write_store(tmp_path / "src", {})
    previous = build_snapshot(sources, data_dir=tmp_path / "data").path
    (tmp_path / "src" / "incidents.jsonl").unlink()
    with pytest.raises(SourceError, match=r"fixture \(jsonl: .*incidents.jsonl\): file not found"):
        build_snapshot(sources, data_dir=tmp_path / "data")
    assert current_snapshot(tmp_path / "data" / "snapshots") == previous
    assert not [p for p in (tmp_path / "data" / "snapshots").iterdir() if p.name.startswith(".building-")]


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "DASHBOARD_DATA_DIR"}


# --- load -----------------------------------------------------------------------------------------

PAGES = SCRIPTS
TITLES = {"": "DSGVO-Compliance-Cockpit", "loeschfristen": "Löschfristen", "anfragen": "Betroffenenanfragen",
          "einwilligungen": "Einwilligungen", "datenpannen": "Datenpannen", "exporte": "Exporte",
          "datenqualitaet": "Datenqualität"}


PER_SESSION = 2


def test_twenty_sessions_while_publishing_and_exporting(demo_data_dir, tmp_path, use_data_dir):
    """20 concurrent sessions of a real server open pages while a snapshot is published and three export
    jobs run (sessions speak the websocket protocol: tests/wsclient.py). Each session opens 2 pages,
    staggered, so together they open every page (40 page runs keep `make test` within its budget)."""
    import asyncio
    import shutil

    from tests.e2e.conftest import URL_PAGES, serve
    from tests.wsclient import load

    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    shutil.copytree(demo_data_dir / "snapshots", tmp_path / "snapshots")
    use_data_dir(tmp_path)  # the export jobs of this process work on the server's data dir
    with serve(tmp_path) as url:
        async def scenario():
            sessions = asyncio.create_task(load(url, sessions=20, pages=URL_PAGES, per_session=PER_SESSION))
            await asyncio.sleep(1.0)
            store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
            runner = jobs.JobRunner(store, workers=2)
            exports = [runner.submit("deletion_worklist", {"system": "helpdesk", "as_of": dt.date(2026, 11, 26)},
                                     "a", "dpo"),
                       runner.submit("management_report", {}, "b", "management"),
                       runner.submit("subject_access", {"contact_id": "C00000001"}, "c", "dpo")]
            new = await asyncio.to_thread(build_snapshot, data_dir=tmp_path)  # published mid-load
            result = await sessions
            return store, exports, new.path, result

        # Its own thread and event loop (the browser tests' Playwright keeps a loop in the main thread);
        # a daemon thread and a bounded wait, so a stuck session fails the test instead of hanging CI.
        done: concurrent.futures.Future = concurrent.futures.Future()
        threading.Thread(target=lambda: _settle(done, lambda: asyncio.run(scenario())), daemon=True).start()
        store, exports, new, result = done.result(timeout=240)
    assert not result.errors, result.errors[:3]
    assert len(result.runs) == 20 * PER_SESSION
    assert {run.page for run in result.runs} == set(URL_PAGES)
    for run in result.runs:
        assert any(TITLES[run.page] in h for h in run.headings), (run.page, run.headings)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(store.get(j.id).status in ("queued", "running") for j in exports):
        time.sleep(0.1)
    assert [store.get(j.id).status for j in exports] == ["succeeded"] * 3
    assert current_snapshot(tmp_path / "snapshots") == new
    p50, p95 = result.quantile(0.5), result.quantile(0.95)
    print(f"\nload: {len(result.runs)} page runs by 20 sessions, p50 {p50:.2f} s, p95 {p95:.2f} s")
    assert p95 < 60


def test_no_python_callback_runs_inside_polars():
    """No ``map_elements``/``map_batches``/``map_rows`` in the app: a Python function inside Polars runs
    on its thread pool, and next to another session's ``to_pandas`` (every table with a coloured clock)
    that deadlocked the whole server (pola-rs/polars#26821; the load test above hung one run in three).
    ``data.as_text`` does per-value Python outside Polars."""
    calls = re.compile(r"\.(map_elements|map_batches|map_rows)\(")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "dashboard").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if calls.search(line)]
    assert not found, found


def _settle(future: concurrent.futures.Future, work) -> None:
    try:
        future.set_result(work())
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting test
        future.set_exception(exc)


# --- security -------------------------------------------------------------------------------------

PAYLOADS = ("' OR '1'='1", "x'; DROP TABLE requests; --", "\" OR 1=1 --", "%' --", "') UNION SELECT * FROM contacts --")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_are_only_values(demo_data_dir, payload):
    """Every text or list filter of every list query gets the payload: no rows, no error, tables intact."""
    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    as_of = dt.date(2026, 11, 26)
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    retention = dict(as_of=as_of, window_days=30, categories=[], systems=[], statuses=[], until_from=None,
                     until_to=None)
    queue = dict(as_of=as_of, due_soon_days=7, show_hidden=True, rights=[], statuses=[], assignees=[], channels=[],
                 overdue_only=False, due_within=None, received_from=None, received_to=None)
    findings = dict(as_of=as_of, current_version="2025-01", pending_days=30, finding="stale_pending", purposes=[])
    cases = [("request_queue", queue, k) for k in ("rights", "statuses", "assignees", "channels")]
    cases += [("retention_due_list", retention, k) for k in ("categories", "systems", "statuses")]
    cases += [("consent_findings", findings, "purposes"), ("consent_findings", findings, "finding"),
              ("incident_register", dict(as_of=now, warning_hours=24, clocks=[], window_months=None), "clocks"),
              ("deletion_worklist", dict(as_of=as_of, system="helpdesk"), "system"),
              ("request_detail", dict(request_id="x", as_of=as_of, due_soon_days=7), "request_id"),
              ("incident_detail", dict(incident_id="x", as_of=now, warning_hours=24), "incident_id"),
              ("subject_search", dict(term="x"), "term"),
              ("subject_contact", dict(contact_id="x"), "contact_id"),
              ("subject_footprint", dict(contact_id="x"), "contact_id")]
    before = con.sql("SELECT count(*) FROM requests").fetchall()[0][0]
    for name, params, key in cases:
        value = [payload] if isinstance(params[key], list) else payload
        frame = data.run(con, name, **{**params, key: value})
        rows = frame["tickets"].sum() + frame["requests"].sum() if name == "subject_footprint" else frame.height
        assert rows == 0, (name, key)
    assert con.sql("SELECT count(*) FROM requests").fetchall()[0][0] == before
    con.close()


def test_export_files_stay_in_their_job_folder(demo_data_dir, tmp_path, use_data_dir):
    use_data_dir(demo_data_dir)
    store = jobs.JobStore(tmp_path / "jobs.sqlite", tmp_path / "exports")
    params = {"query": "rejected_rows", "params": {}, "filename": "../../../../tmp/evil"}
    job = jobs.execute(store, store.create("list_csv", params, "dsb", "dpo").id)
    assert job.status == "succeeded", job.error
    assert job.path.parent == tmp_path / "exports" / job.id and job.path.name.endswith("tmp_evil.csv")
    assert store.output_path(job, "../x/../../y.csv") == tmp_path / "exports" / job.id / "y.csv"


def test_server_defaults_are_safe():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["address"] == "127.0.0.1"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--server.address 127.0.0.1" in makefile


def test_no_personal_data_in_logs(demo_data_dir, use_data_dir, caplog, tmp_path):
    """Pages and an export at DEBUG: no demo name, email or phone number in any log record."""
    import polars as pl
    from streamlit.testing.v1 import AppTest

    use_data_dir(demo_data_dir)
    contacts = pl.read_csv(demo_data_dir / "demo" / "helpdesk" / "contacts.csv", infer_schema=False)
    secrets = {v for c in ("email", "phone", "last_name") for v in contacts[c].drop_nulls().to_list() if len(v) > 3}
    with caplog.at_level(logging.DEBUG):
        logging.getLogger().setLevel(logging.DEBUG)
        at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
        at.run()
        for page in PAGES:
            at.switch_page(page).run()
        store = jobs.JobStore(tmp_path / "jobs.sqlite", tmp_path / "exports")
        jobs.execute(store, store.create("subject_access", {"contact_id": "C00000001"}, "dsb", "dpo").id)
        jobs.execute(store, store.create("subject_access", {"contact_id": "nobody"}, "dsb", "dpo").id)  # fails
        build_snapshot(data_dir=demo_data_dir)
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert len(caplog.records) > 5
    leaked = sorted(s for s in secrets if s in text)
    assert not leaked, leaked[:5]


def test_build_memory_is_limited_and_out_of_memory_says_how_to_raise_it(tmp_path, monkeypatch):
    """DuckDB may use DASHBOARD_BUILD_MEMORY during a build (unlimited it took 5.1 GB of the large
    profile next to the app): a build that needs more fails in one line that says what to raise, and
    the previous snapshot stays live; a crashed build's spill folder goes with the next build."""
    sources = write_store(tmp_path / "src", {})
    previous = build_snapshot(sources, data_dir=tmp_path / "data").path
    folder = tmp_path / "data" / "snapshots"
    monkeypatch.setenv("DASHBOARD_BUILD_MEMORY", "1MB")
    hint = r"\(the build may use 1MB: set DASHBOARD_BUILD_MEMORY higher\); the previous snapshot stays live"
    with pytest.raises(BuildError, match=r"Out of Memory.*" + hint):
        build_snapshot(sources, data_dir=tmp_path / "data", full=True)  # nothing changed: --full builds
    assert current_snapshot(folder) == previous
    assert not [p for p in folder.iterdir() if p.name.startswith(".building-")]
    monkeypatch.delenv("DASHBOARD_BUILD_MEMORY")
    spill = folder / ".building-20260101T000000000000Z.duckdb.tmp"  # what a killed build leaves
    spill.mkdir()
    (spill / "duckdb_temp_block-1.block").write_bytes(b"personal data")
    assert build_snapshot(sources, data_dir=tmp_path / "data", full=True).path != previous
    assert not spill.exists()
