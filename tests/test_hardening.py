"""What an attacker, a broken file and a bad day showed, each closed with a test (the
point's number in the issue is in each test's name; docs/RELIABILITY.md lists them)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboard import access, errors, exports, history, jobs
from dashboard.build import build_snapshot
from dashboard.ingest.config import DEMO_MARKER
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot, usable_snapshot
from tests.helpers import app, write_store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
BEACON = "![x](http://host.invalid/beacon.png) **fett** :red[rot] <img src=x>"


# --- 1. source values are text, never Markdown ------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_data_dir(tmp_path_factory):
    """A store whose subject is called like a Markdown beacon and whose breach has such a delay reason."""
    tmp = tmp_path_factory.mktemp("hostile")
    contact = {"contact_id": "C1", "first_name": BEACON, "last_name": "Muster", "email": "[klick](http://x.invalid)",
               "created_at": "2024-01-01T00:00:00Z"}
    request = {"request_id": "Q1", "contact_id": "C1", "right": "access", "channel": "email",
               "received_at": "2026-11-20T09:00:00Z", "status": "in_progress"}
    breach = {"incident_id": "B1", "title": BEACON, "type": "confidentiality", "detected_at": "2026-01-01T07:00:00Z",
              "aware_at": "2026-01-01T08:00:00Z", "risk": "risk", "authority_notified_at": "2026-01-06T08:00:00Z",
              "delay_reason": BEACON, "status": "notified"}
    sources = write_store(tmp / "src", {"contacts": [contact], "requests": [request], "incidents": [breach]})
    (tmp / "src" / DEMO_MARKER).write_text("test data\n", encoding="utf-8")  # viewed in demo mode
    build_snapshot(sources, data_dir=tmp)
    return tmp


def _markdown_sources(at: AppTest) -> list[str]:
    return [str(e.value) for kind in ("markdown", "caption", "subheader", "error", "warning", "info", "success")
            for e in at.get(kind)]


def test_1_source_values_never_render_as_markdown(hostile_data_dir, use_data_dir):
    use_data_dir(hostile_data_dir)
    at = app("views/requests.py")
    at.session_state["requests_queue"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert any(BEACON in t.value for t in at.text)  # shown, as plain text
    for source in _markdown_sources(at):
        assert "](" not in source and "**fett**" not in source and ":red[" not in source, source
    at = app("views/incidents.py")
    at.session_state["incidents_register"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    captions = [c.value for c in at.caption if c.value.startswith("Grund der Verzögerung")]
    assert captions and all("](" not in c and "**" not in c for c in captions)
    # The Art. 15/20 subject picker (radio labels render Markdown, images included).
    at = app("views/exports.py")
    at.text_input(key="exports_subject").input("Muster").run()
    assert not at.exception
    options = at.radio(key="exports_subject_choice").options
    assert len(options) == 1 and "Muster" in options[0]
    for source in [*options, *_markdown_sources(at)]:
        assert "](" not in source and "**fett**" not in source and ":red[" not in source, source


# --- 2. one error boundary, no tracebacks -------------------------------------------------------------


def test_2_error_details_never_reach_the_browser():
    config = (ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    assert 'showErrorDetails = "none"' in config


def test_2_unexpected_errors_show_an_incident_id_not_the_message(demo_data_dir, use_data_dir, monkeypatch, caplog):
    from dashboard import kpis

    def broken(*_a, **_k):
        subject = "C0000004" + "2"  # the value is in a variable, as real data is: only code lines reach the log
        raise duckdb.BinderException(f"Binder Error: ... WHERE contact_id = '{subject}' ...")

    use_data_dir(demo_data_dir)
    monkeypatch.setattr(kpis, "headline", broken)
    at = app()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "Vorgangsnummer" in shown and "C00000042" not in shown and "Binder" not in shown
    incident = shown.split("Vorgangsnummer ")[1][:8]
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert logged and "C00000042" not in logged[0].getMessage()  # type and stack, never the message


def test_2_known_errors_explain_themselves(demo_data_dir, use_data_dir, monkeypatch):
    from dashboard import kpis
    from dashboard.policy import PolicyError

    def broken(*_a, **_k):
        raise PolicyError("data/policy.toml: settings.due_soon_days: got -1; expected a whole number >= 0")

    use_data_dir(demo_data_dir)
    monkeypatch.setattr(kpis, "headline", broken)
    at = app()
    assert not at.exception
    assert any("Löschrichtlinie" in e.value and "due\\_soon\\_days" in e.value for e in at.error)


def test_2_oidc_without_configuration_says_so(demo_data_dir, use_data_dir, monkeypatch):
    use_data_dir(demo_data_dir)
    monkeypatch.setenv("DASHBOARD_AUTH", "oidc")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("[auth]" in e.value for e in at.error)


# --- 4. downloads: current role and expiry when served, audited where the bytes are produced ------------


@pytest.fixture
def store(demo_data_dir, use_data_dir, tmp_path):
    use_data_dir(demo_data_dir)
    return jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")


def _finished(store, kind="subject_access", params=None, user="dsb", role="dpo"):
    return jobs.execute(store, store.create(kind, params or {"contact_id": "C00000001"}, user, role).id)


def test_4_download_checks_the_current_role_and_audits_the_bytes(store):
    job = _finished(store)
    assert store.offerable(job, "dsb", "dpo")
    payload = store.serve(job.id, "dsb", "dpo")
    assert payload == job.path.read_bytes()
    assert store.audit_entries()[0]["action"] == "download"  # written where the bytes were produced
    # The same user, moved to management in the roles file: the Art. 15 package is theirs no more.
    assert not store.offerable(job, "dsb", "management")
    with pytest.raises(jobs.DownloadRefused):
        store.serve(job.id, "dsb", "management")
    assert [e["action"] for e in store.audit_entries()] == ["download", "export"]


def test_4_expired_files_are_neither_offered_nor_served_and_are_swept(store):
    job = _finished(store)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE jobs SET expires_at = ? WHERE id = ?", ("2000-01-01T00:00:00+00:00", job.id))
    job = store.get(job.id)
    assert not store.offerable(job, "dsb", "dpo")
    with pytest.raises(jobs.DownloadRefused):
        store.serve(job.id, "dsb", "dpo")
    assert store.get(job.id).status == "expired" and not job.path.exists()


def test_4_a_running_server_sweeps_on_its_own(store):
    job = _finished(store)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE jobs SET expires_at = ? WHERE id = ?", ("2000-01-01T00:00:00+00:00", job.id))
    jobs.JobRunner(store, sweep_every=dt.timedelta(seconds=0.2))
    deadline = time.monotonic() + 10
    while store.get(job.id).status != "expired" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.get(job.id).status == "expired" and not job.path.exists()


def test_4_identical_running_jobs_are_reused_and_each_user_is_capped(store):
    first, created = store.create_or_reuse("subject_access", {"contact_id": "C1"}, "dsb", "dpo")
    again, created_again = store.create_or_reuse("subject_access", {"contact_id": "C1"}, "dsb", "dpo")
    assert created and not created_again and again.id == first.id
    for n in (2, 3):
        store.create("subject_access", {"contact_id": f"C{n}"}, "dsb", "dpo")
    with pytest.raises(jobs.JobLimit, match="3 exports are still running"):
        store.create("subject_access", {"contact_id": "C4"}, "dsb", "dpo")
    store.create("subject_access", {"contact_id": "C4"}, "kollegin", "dpo")  # the cap is per user


def test_4_the_page_offers_a_deferred_download(demo_data_dir, use_data_dir):
    """The button carries no file (no /media URL before a click); the click produces and audits it."""
    use_data_dir(demo_data_dir)
    at = app("views/exports.py")
    at.text_input(key="exports_subject").set_value("C00000002").run()
    at.button(key="export_art15").click().run()
    state = jobs.JobStore(demo_data_dir / "state" / "jobs.sqlite", demo_data_dir / "exports")
    job = state.list()[0]
    deadline = time.monotonic() + 30
    while state.get(job.id).status in jobs.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.1)
    at.run()
    button = next(d for d in at.get("download_button") if "C00000002" in d.proto.label)
    assert button.proto.url == "" and button.proto.deferred_file_id


def test_4_a_short_list_is_made_and_audited_only_at_the_click(demo_data_dir, use_data_dir):
    """'Liste als CSV' of a short list: a deferred download (no file, no job before the click); the click
    runs the export and serves it through the job store, which audits both."""
    use_data_dir(demo_data_dir)
    at = app("views/requests.py")
    button = next(d for d in at.get("download_button") if d.proto.label.startswith("Liste als CSV ("))
    assert button.proto.url == "" and button.proto.deferred_file_id
    state = jobs.JobStore(demo_data_dir / "state" / "jobs.sqlite", demo_data_dir / "exports")
    before = len(state.audit_entries())
    runner = jobs.JobRunner(state)
    payload = runner.run_now("list_csv", {"query": "request_queue", "params": _queue_params(), "format": "readable",
                                          "lang": "de"}, "demo:dpo", "dpo")
    assert payload.decode("utf-8-sig").startswith("Anfrage;Fristenstatus;Tage übrig;Zuständig")
    assert [e["action"] for e in state.audit_entries()[: len(state.audit_entries()) - before]] == ["download", "export"]


def _queue_params() -> dict:
    import datetime as dt

    return dict(as_of=dt.date(2026, 11, 26), due_soon_days=7, show_hidden=False, rights=[], statuses=[], assignees=[],
                channels=[], overdue_only=False, due_within=None, received_from=None, received_to=None)


# --- 5. files with personal data are the owner's alone ---------------------------------------------------


def test_5_snapshots_exports_and_state_are_private_whatever_the_umask(demo_data_dir, tmp_path, use_data_dir):
    old = os.umask(0o022)
    try:
        shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
        built = build_snapshot(data_dir=tmp_path).path
        use_data_dir(tmp_path)
        store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
        job = _finished(store)
        history.KpiHistory(tmp_path / "state" / "kpi_history.sqlite")
    finally:
        os.umask(old)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    for folder in (tmp_path / "snapshots", tmp_path / "state", tmp_path / "exports", job.path.parent):
        assert mode(folder) == 0o700, folder
    for file in (built, tmp_path / "snapshots" / "CURRENT", tmp_path / "state" / "jobs.sqlite",
                 tmp_path / "state" / "kpi_history.sqlite", job.path):
        assert mode(file) == 0o600, file


# --- 6. the audit trail shows tampering -----------------------------------------------------------------


def test_6_audit_chain_reveals_replaced_and_rewritten_entries(store, demo_data_dir, monkeypatch, capsys):
    for n in range(4):
        store.audit("dsb", "dpo", "download", "subject_access", f"job{n}")
    assert store.verify_audit().intact and store.verify_audit().chained == 4
    with sqlite3.connect(store.path) as db:  # INSERT OR REPLACE slips past the UPDATE/DELETE triggers
        db.execute("INSERT OR REPLACE INTO audit (seq, at, user, role, action, kind, job_id, params, prev_hash, hash) "
                   "SELECT seq, at, 'someone-else', role, action, kind, job_id, params, prev_hash, hash "
                   "FROM audit WHERE seq = 2")
    check = store.verify_audit()
    assert not check.intact and check.broken_at == 2
    assert "BROKEN at entry 2" in check.describe()
    from dashboard.cli import main

    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(store.path.parent.parent))
    assert main(["audit", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_6_dropping_the_triggers_does_not_hide_an_edit(store):
    for n in range(3):
        store.audit("dsb", "dpo", "export", "list_csv", f"job{n}", rows=n)
    with sqlite3.connect(store.path) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET rows = 999 WHERE seq = 3")
    assert store.verify_audit().broken_at == 3


# --- 8. formula guard -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "\n=cmd|' /C calc'!A0", "  +1", "\r\n@SUM(A1)", "\uff1dHYPERLINK(x)",
                                   "\u3000-2", "\tx"])
def test_8_formula_guard_in_python_and_sql_alike(value):
    assert exports.neutralise(value) == "'" + value
    assert duckdb.sql(f"SELECT {exports.formula_guard('$v')}", params={"v": value}).fetchall() == [("'" + value,)]


@pytest.mark.parametrize("value", ["ok", "a=b", "x\n=1", "", "Müller-Lüdenscheidt", "1+1", "mail@x.de"])
def test_8_plain_text_passes_the_guard_in_python_and_sql_alike(value):
    assert exports.neutralise(value) == value
    assert duckdb.sql(f"SELECT {exports.formula_guard('$v')}", params={"v": value}).fetchall() == [(value,)]


@given(st.text(alphabet="=+-@ \t\n\r\v\f\u3000\uff1d\uff0b\uff0d\uff20ax1'", max_size=6))
@settings(max_examples=300, deadline=None)
def test_8_sql_guard_and_python_guard_agree_on_any_text(value):
    assert duckdb.sql(f"SELECT {exports.formula_guard('$v')}", params={"v": value}).fetchall() == [
        (exports.neutralise(value),)]


def test_8_xlsx_never_turns_text_into_a_formula(demo_data_dir, tmp_path, monkeypatch):
    import openpyxl
    import polars as pl

    from dashboard import data, report

    real = report.report_frames

    def with_formulas(con, lang="de", previous=None):
        facts, sheets = real(con, lang, previous)
        facts["policy_version"] = "=HYPERLINK(\"http://x.invalid\")"
        sheets["overview"] = [pl.DataFrame({"Kennzahl": ["=1+1", "+49 6131"]})]
        return facts, sheets

    monkeypatch.setattr(report, "report_frames", with_formulas)
    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    report.write_xlsx(con, tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == "=1+1" and c.data_type == "s" for c in cells)


# --- 10. one broken CSV line is set aside alone ---------------------------------------------------------


def _contacts_csv(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(["contact_id,first_name,last_name,email,created_at", *lines]) + "\n",
                    encoding="utf-8")
    sources = path.parent / "sources.toml"
    sources.write_text(f'[sources.h]\nkind = "csv"\npath = "{path.parent}"\n\n[tables.contacts]\nsource = "h"\n'
                       f'file = "{path.name}"\n' + "".join(
                           f'\n[tables.{t}]\nsource = "h"\nfile = "{t}.csv"\n' for t in (
                               "tickets", "attachments", "contracts", "invoices", "consent_events", "requests",
                               "request_pauses", "request_events", "incidents", "holds")), encoding="utf-8")
    for t in ("tickets", "attachments", "contracts", "invoices", "consent_events", "requests", "request_pauses",
              "request_events", "incidents", "holds"):
        (path.parent / f"{t}.csv").write_text("", encoding="utf-8")
    return sources


def test_10_a_broken_csv_line_is_set_aside_alone(tmp_path):
    good = [f'C{n},"Vor, Name",Nach{n},"a""b{n}@x",2024-01-01T00:00:00Z' for n in range(1, 3001)]
    lines = list(good)
    lines[499] = 'C500,"Kaputt,Nach500,c500@x,2024-01-01T00:00:00Z'  # unbalanced quote
    lines[1499] = 'C1500,zu,viele,felder,hier,2024-01-01T00:00:00Z'  # six fields, not five
    lines[2499] = "C2500," + "x" * 3_000_000 + ",N,e,2024-01-01T00:00:00Z"  # over 2 MB
    sources = _contacts_csv(tmp_path / "src" / "contacts.csv", lines)
    built = build_snapshot(sources, data_dir=tmp_path / "data")
    assert built.tables["contacts"] == (3000, 2997, 3)
    con = open_snapshot(built.path)
    rejected = con.sql("SELECT source_row, reason FROM rejected_rows WHERE table_name = 'contacts' "
                       "ORDER BY source_row").fetchall()
    assert [r[0] for r in rejected] == [501, 1501, 2501]  # physical lines (the header is line 1)
    assert "unbalanced quote" in rejected[0][1] and "longer than" in rejected[2][1]
    kept = dict(con.sql("SELECT contact_id, email FROM contacts").fetchall())
    assert len(kept) == 2997 and kept["C502"] == 'a"b502@x' and kept["C1502"] == 'a"b1502@x'
    assert con.sql("SELECT first_name FROM contacts WHERE contact_id = 'C2'").fetchall() == [("Vor, Name",)]


# --- 11. a corrupt live snapshot ------------------------------------------------------------------------


def test_11_corrupt_live_snapshot_falls_back_and_status_fails(demo_data_dir, tmp_path, monkeypatch, capsys):
    from dashboard.cli import main

    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    older = build_snapshot(data_dir=tmp_path).path
    time.sleep(0.01)
    live = build_snapshot(data_dir=tmp_path, full=True).path  # a second version (nothing changed: --full)
    with open(live, "r+b") as fh:  # damage the live file
        fh.seek(0)
        fh.write(b"\0" * 8192)
    usable = usable_snapshot(tmp_path / "snapshots")
    assert usable.path == older and usable.live == live and usable.problem
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    assert main(["status"]) == 1
    assert live.name in capsys.readouterr().out
    at = app()
    assert not at.exception
    assert any(live.name in e.value or "nicht lesbar" in e.value for e in at.error)
    assert at.metric  # the figures of the last readable snapshot
    assert main(["snapshot", "--if-missing"]) == 0  # rebuilds instead of crashing
    assert current_snapshot(tmp_path / "snapshots") not in (older, live)
    assert "cannot be used" in capsys.readouterr().out


# --- 12. a locked KPI history ----------------------------------------------------------------------------


def test_12_locked_history_shows_tiles_at_once(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    path = demo_data_dir / "state" / "kpi_history.sqlite"
    history.KpiHistory(path)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("PRAGMA journal_mode=DELETE")  # a writer holding an exclusive lock blocks readers
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        at = app()
        assert time.monotonic() - started < 20
        assert not at.exception and len(at.metric) >= 10  # the tiles
        assert any("Historie" in w.value for w in at.warning)
    finally:
        locker.execute("ROLLBACK")
        locker.close()


# --- 13. job recovery knows its owner by more than the process id -----------------------------------------


def test_13_a_reused_process_id_does_not_keep_a_job_running(store):
    job = store.create("subject_access", {"contact_id": "C00000001"}, "dsb", "dpo")
    with sqlite3.connect(store.path) as db:  # our own pid, but another process's start time: a restart
        db.execute("UPDATE jobs SET status = 'running', owner_token = 'another-boot:1' WHERE id = ?", (job.id,))
    assert store.recover_interrupted() == [job.id]
    assert store.get(job.id).error == "interrupted by restart"
    alive = store.create("subject_access", {"contact_id": "C00000002"}, "dsb", "dpo")
    assert store.recover_interrupted() == [] and store.get(alive.id).status == "queued"


def test_13_a_job_without_owner_token_and_a_live_pid_is_recovered(store):
    """A record from before tokens (owner_token NULL) whose process id is alive again (here:
    this very process) was never recovered; it cannot be its owner's, so it fails as interrupted."""
    job = store.create("subject_access", {"contact_id": "C00000001"}, "dsb", "dpo")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE jobs SET status = 'running', owner_token = NULL WHERE id = ?", (job.id,))
    assert store.recover_interrupted() == [job.id]
    assert store.get(job.id).error == "interrupted by restart"


# --- 15. markers select ----------------------------------------------------------------------------------


def test_15_markers_select_the_browser_and_postgres_tests(request):
    """`-m e2e` / `-m postgres` select exactly the browser and PostgreSQL tests. Read from this session's
    own collection when it holds the whole suite (as in `make test`), else from a collection run."""
    items = request.session.items
    if any(item.path.parent.name == "e2e" for item in items):
        selected = [(str(item.path.relative_to(ROOT)), {m.name for m in item.iter_markers()}) for item in items]
    else:
        out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "e2e or postgres",
                              "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120).stdout
        selected = [(line.split("::")[0], {"e2e", "postgres"}) for line in out.splitlines() if "::" in line]
    browser = [path for path, marks in selected if path.startswith("tests/e2e/")]
    postgres = [path for path, marks in selected if path in ("tests/test_ingest_postgres.py",
                                                              "tests/test_ingest_connectors.py",
                                                              "tests/test_ingest_zammad_register.py",
                                                              "tests/test_ingest_znuny.py",
                                                              "tests/test_ingest_znuny_register.py")]
    assert len(browser) > 10 and postgres
    assert all("e2e" in marks for path, marks in selected if path in browser)
    assert all("postgres" in marks for path, marks in selected if path in postgres)
    assert not [path for path, marks in selected if marks & {"e2e", "postgres"} and path not in browser + postgres]


def test_error_module_logs_no_message(caplog):
    subject = "C0000004" + "2"
    try:
        raise ValueError(f"contact {subject} is broken")
    except ValueError as exc:
        label, incident = errors.unexpected(exc)
    assert label == "errors.unexpected" and len(incident) == 8
    assert all("C00000042" not in r.getMessage() for r in caplog.records)


def test_access_denied_is_a_known_error():
    assert issubclass(access.AccessDenied, errors.DashboardError)
