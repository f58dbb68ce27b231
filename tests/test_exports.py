"""Export jobs: lifecycle, failure, restart recovery, concurrency, CSV dialect and formula injection,
the Art. 15 ZIP and Art. 20 JSON of a fixture subject, the report, expiry and the audit trail."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest

from dashboard import access, exports, jobs
from dashboard.build import build_snapshot
from dashboard.errors import DashboardError
from tests.helpers import write_store

AS_OF = dt.date(2026, 11, 26)
QUEUE = dict(as_of=AS_OF, due_soon_days=7, show_hidden=True, rights=[], statuses=[], assignees=[], channels=[],
             overdue_only=False, due_within=None, received_from=None, received_to=None)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A snapshot with one fully described subject (S1) whose values try formula injection."""
    tmp = tmp_path_factory.mktemp("exports")
    contacts = [
        {"contact_id": "S1", "first_name": "=HYPERLINK(\"http://x\")", "last_name": "+Muster",
         "email": "s1@example.org", "phone": "-49 123", "street": "@Weg 1", "postal_code": "55546",
         "city": "\tNeu-Bamberg", "created_at": "2020-01-01T10:00:00Z"},
        {"contact_id": "S2", "first_name": "Erika", "last_name": "Beispiel", "email": "s2@example.org",
         "created_at": "2020-01-01T10:00:00Z"},
    ]
    tickets = [{"ticket_id": f"T{i}", "contact_id": "S1", "opened_at": "2026-01-01T08:00:00Z", "status": "closed",
                "closed_at": "2026-02-01T08:00:00Z", "category": "network"} for i in range(3)]
    attachments = [{"attachment_id": "A1", "ticket_id": "T0", "kind": "log_file", "size_bytes": "2048"}]
    contracts = [{"contract_id": "V1", "contact_id": "S1", "start_date": "2021-01-01", "status": "active"}]
    invoices = [{"invoice_id": "R1", "contract_id": "V1", "contact_id": "S1", "invoice_date": "2025-03-01",
                 "amount_eur": "-5.25"},
                # S2 asked for erasure (Q5, completed 2026-10-10): the invoice, kept by statute until
                # 2034-12-31, is restricted until then instead of erased (DOMAIN.md section 5).
                {"invoice_id": "R2", "contract_id": "V2", "contact_id": "S2", "invoice_date": "2024-02-01",
                 "amount_eur": "12.00"}]
    consent = [{"event_id": "E1", "contact_id": "S1", "purpose": "newsletter", "action": "requested",
                "occurred_at": "2026-01-01T10:00:00Z", "notice_version": "2025-01", "channel": "web"},
               {"event_id": "E2", "contact_id": "S1", "purpose": "newsletter", "action": "confirmed",
                "occurred_at": "2026-01-01T11:00:00Z", "notice_version": "2025-01", "channel": "email"}]
    requests = [{"request_id": f"Q{i}", "contact_id": "S1" if i == 0 else "S2", "right": "access",
                 "channel": "email", "received_at": f"2026-11-{10 + i:02d}T09:00:00Z", "status": "in_progress",
                 "assignee": "=cmd|' /C calc'!A0"} for i in range(5)]
    requests.append({"request_id": "Q5", "contact_id": "S2", "right": "erasure", "channel": "email",
                     "received_at": "2026-10-01T09:00:00Z", "status": "completed",
                     "closed_at": "2026-10-10T09:00:00Z", "assignee": "DSB"})
    sources = write_store(tmp / "src", {"contacts": contacts, "tickets": tickets, "attachments": attachments,
                                        "contracts": contracts, "invoices": invoices, "consent_events": consent,
                                        "requests": requests})
    build_snapshot(sources, data_dir=tmp)
    return tmp


@pytest.fixture
def store(data_dir, use_data_dir, tmp_path) -> jobs.JobStore:
    use_data_dir(data_dir)
    return jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")


def _run(store, kind, params, role="dpo", user="dsb") -> jobs.Job:
    return jobs.execute(store, store.create(kind, params, user, role).id)


def _queue_export(**extra) -> dict:
    return {"query": "request_queue", "params": QUEUE, **extra}


def test_job_lifecycle_success_with_file_hash_and_audit(store):
    job = store.create("list_csv", _queue_export(), "dsb", "dpo")
    assert (job.status, job.progress, job.file) == ("queued", 0, None)
    done = jobs.execute(store, job.id)
    assert (done.status, done.progress, done.rows) == ("succeeded", 100, 5)
    assert done.started_at and done.finished_at and done.expires_at
    payload = done.path.read_bytes()
    assert done.size == len(payload) and done.sha256 == hashlib.sha256(payload).hexdigest()
    assert not list(done.path.parent.glob("*.part"))
    entry = store.audit_entries()[0]
    assert (entry["action"], entry["kind"], entry["rows"], entry["sha256"], entry["user"], entry["role"]) == (
        "export", "list_csv", 5, done.sha256, "dsb", "dpo")
    assert json.loads(entry["params"])["query"] == "request_queue"


def test_failure_says_why_and_leaves_no_file(store):
    with pytest.raises(access.AccessDenied, match="may not create list"):  # refused before any job exists
        store.create("list_csv", {"query": "../../etc/passwd"}, "dsb", "dpo")
    failed = _run(store, "list_csv", {"query": "request_queue", "params": {}})  # its parameters are missing
    assert failed.status == "failed" and "needs parameters" in failed.error
    assert not (store.exports_dir / failed.id).exists()
    assert store.audit_entries()[0]["action"] == "export_failed"
    unknown = _run(store, "subject_access", {"contact_id": "nobody"})
    assert unknown.status == "failed" and "no data subject 'nobody'" in unknown.error


def test_role_is_checked_when_the_job_is_created(store):
    with pytest.raises(access.AccessDenied):
        store.create("subject_access", {"contact_id": "S1"}, "chef", "management")
    with pytest.raises(access.AccessDenied):
        store.create("list_csv", _queue_export(), "pruefer", "auditor")
    assert store.list() == []


def test_restart_marks_interrupted_jobs_failed_and_removes_partial_files(store):
    job = store.create("list_csv", _queue_export(), "dsb", "dpo")
    # A real process takes the job, writes half a file and dies without cleaning up.
    code = (f"import os, signal; from pathlib import Path; from dashboard import jobs;"
            f"s = jobs.JobStore(Path({str(store.path)!r}), Path({str(store.exports_dir)!r}));"
            f"s.start({job.id!r}); j = s.get({job.id!r});"
            f"s.output_path(j, 'x.csv.part').write_text('half');"
            f"os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent)
    assert proc.returncode == -9
    assert store.get(job.id).status == "running"
    assert list((store.exports_dir / job.id).iterdir())
    assert jobs.JobStore(store.path, store.exports_dir).recover_interrupted() == [job.id]
    after = store.get(job.id)
    assert (after.status, after.error) == ("failed", "interrupted by restart")
    assert not (store.exports_dir / job.id).exists()
    rerun = jobs.execute(store, store.create(after.kind, after.params, "dsb", "dpo").id)
    assert rerun.status == "succeeded"


def test_running_jobs_of_a_live_process_are_not_touched(store):
    job = store.create("list_csv", _queue_export(), "dsb", "dpo")
    store.start(job.id)  # this process is alive
    assert store.recover_interrupted() == []
    assert store.get(job.id).status == "running"


def test_concurrent_jobs_from_two_sessions(store):
    runner = jobs.JobRunner(store, workers=2)
    submitted: list[jobs.Job] = []
    lock = threading.Lock()

    def session(user: str) -> None:
        for kind, params in (("list_csv", _queue_export()), ("subject_access", {"contact_id": "S1"}),
                             ("management_report", {})):
            job = runner.submit(kind, params, user, "dpo")
            with lock:
                submitted.append(job)

    threads = [threading.Thread(target=session, args=(u,)) for u in ("anna", "ben")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(store.get(j.id).status in ("queued", "running") for j in submitted):
        time.sleep(0.1)
    final = [store.get(j.id) for j in submitted]
    assert [j.status for j in final] == ["succeeded"] * 6, [j.error for j in final]
    assert len({j.path for j in final}) == 6  # no two jobs share a file
    assert {j.requested_by for j in store.list(user="anna")} == {"anna"} and len(store.list(user="anna")) == 3
    assert len(store.list()) == 6
    anna_job = store.list(user="anna")[0]
    assert store.visible_to(anna_job, "anna", "management") and not store.visible_to(anna_job, "ben", "management")
    assert store.visible_to(anna_job, "ben", "dpo")


def _rows(path: Path, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=delimiter))


def test_csv_dialect_for_german_excel_and_formula_injection(store):
    german = _run(store, "list_csv", {"query": "request_queue", "params": QUEUE})
    raw = german.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"request_id;clock;days_left" in raw[:60]
    rows = _rows(german.path, ";")
    header = rows[0]
    assert "total_rows" not in header
    assignee = {r[header.index("assignee")] for r in rows[1:]}
    assert assignee == {"'=cmd|' /C calc'!A0"}  # neutralised: shown as text, never run
    assert rows[1][header.index("received_date")] == "2026-11-10"  # dates as ISO
    plain = _run(store, "list_csv", {"query": "request_queue", "params": QUEUE,
                                     "delimiter": ",", "bom": False})
    raw = plain.path.read_bytes()
    assert raw.startswith(b"request_id,clock,days_left")
    odd = _run(store, "list_csv", {**_queue_export(), "delimiter": "|"})
    assert odd.status == "failed" and "delimiter must be one of" in odd.error


def test_incident_register_export(store, demo_data_dir, use_data_dir):
    from dashboard import data
    from dashboard.snapshot import current_snapshot

    use_data_dir(demo_data_dir)
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    params = {"as_of": now, "warning_hours": 24, "clocks": [], "window_months": None}
    job = _run(store, "list_csv", {"query": "incident_register", "params": params})
    assert job.status == "succeeded", job.error
    rows = _rows(job.path, ";")
    header = rows[0]
    assert header[:3] == ["incident_id", "clock", "hours_left"] and "total_rows" not in header  # the clock first
    expected = data.run(data.connect(current_snapshot(demo_data_dir / "snapshots")), "incident_register", **params)
    assert job.rows == len(rows) - 1 == expected.height > 40
    deadlines = [r[header.index("notification_deadline")] for r in rows[1:] if r[header.index("notification_deadline")]]
    assert deadlines and all(d.endswith(("+01", "+02")) for d in deadlines)  # Europe/Berlin with its offset


def test_list_for_people_reads_like_its_page(store, demo_data_dir, use_data_dir):
    """The default of the pages: the page's column titles and labels in the user's language, dates as
    dd.mm.yyyy, moments in Europe/Berlin with offset, rounded figures; English when asked for."""
    use_data_dir(demo_data_dir)
    now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    params = {"as_of": now, "warning_hours": 24, "clocks": [], "window_months": None}
    machine = _rows(_run(store, "list_csv", {"query": "incident_register", "params": params}).path, ";")
    job = _run(store, "list_csv", {"query": "incident_register", "params": params, "format": "readable", "lang": "de"})
    rows = _rows(job.path, ";")
    header = rows[0]
    assert header[:5] == ["Vorfall", "Fristenstatus", "Stunden übrig", "Stunden verspätet", "Vorfallstatus"]
    assert len(rows) == len(machine)
    clocks = {r[header.index("Fristenstatus")] for r in rows[1:]}
    assert "überfällig" in clocks and not clocks & {"overdue", "warning", "not_required"}  # labels, not codes
    deadline = next(r[header.index("Meldefrist (72 h)")] for r in rows[1:] if r[header.index("Meldefrist (72 h)")])
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \+0[12]:00", deadline), deadline
    late = [r[header.index("Stunden verspätet")] for r in rows[1:] if r[header.index("Stunden verspätet")]]
    assert late and all(re.fullmatch(r"\d+,\d", v) for v in late), late  # rounded, decimal comma
    assert {r[header.index("Meldepflichtig")] for r in rows[1:]} <= {"ja", "nein", ""}
    english = _rows(_run(store, "list_csv", {"query": "incident_register", "params": params, "format": "readable",
                                             "lang": "en"}).path, ";")
    assert english[0][:3] == ["Incident", "Clock", "Hours left"]
    assert "overdue" in {r[1] for r in english[1:]}
    queue_params = {**QUEUE, "as_of": dt.date(2026, 11, 26)}
    queue = _rows(_run(store, "list_csv", {"query": "request_queue", "params": queue_params, "format": "readable",
                                           "lang": "de"}).path, ";")
    received = [r[queue[0].index("Eingang")] for r in queue[1:]]
    assert received and all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", d) for d in received)


def test_management_sees_no_masked_column_in_a_list(store, demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    params = {"as_of": dt.date(2026, 11, 26), "window_days": 30, "categories": [], "systems": [], "statuses": ["due"],
              "until_from": None, "until_to": None}
    job = _run(store, "list_csv", {"query": "retention_due_list", "params": params}, role="management", user="chef")
    header = _rows(job.path, ";")[0]
    assert "contact_id" not in header and "hold_reason" not in header and "record_id" in header


def test_subject_access_zip_for_the_fixture_subject(store):
    """The package for the subject: German files, titles and labels, and a Word cover letter that lists
    every file with its entries and says what is not included and why. Machine-readable on request."""
    import docx

    job = _run(store, "subject_access", {"contact_id": "S1"})
    assert job.status == "succeeded", job.error
    with zipfile.ZipFile(job.path) as zf:
        names = set(zf.namelist())
        files = exports.art15_file_names()
        assert names == {"Auskunft_Art15.docx", *files.values()}
        assert set(files) == set(exports.SUBJECT_CATEGORIES)
        # every system that knows the subject, and under which id
        assert _rows_from(zf, "kennungen.csv") == [["Quelle", "Kennung in der Quelle"], ["fixture", "S1"]]
        contact = _rows_from(zf, "stammdaten.csv")
        assert contact[1][contact[0].index("Vorname")] == "'=HYPERLINK(\"http://x\")"
        assert contact[1][contact[0].index("Ort")] == "'\tNeu-Bamberg"
        assert len(_rows_from(zf, "tickets.csv")) == 1 + 3
        assert len(_rows_from(zf, "einwilligungen.csv")) == 1 + 2
        assert len(_rows_from(zf, "anfragen.csv")) == 1 + 1  # only S1's own request
        invoice = _rows_from(zf, "rechnungen.csv")
        assert invoice[1][invoice[0].index("Betrag (EUR)")] == "-5,25"  # a number with its cents, not neutralised
        consents = _rows_from(zf, "einwilligungen.csv")
        moment = consents[1][consents[0].index("Zeitpunkt")]
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \+0[12]:00", moment), moment  # Berlin time
        letter = "\n".join(p.text for p in docx.Document(io.BytesIO(zf.read("Auskunft_Art15.docx"))).paragraphs)
    for expected in ("Auskunft nach Art. 15 DSGVO", "Zwecke der Verarbeitung", "Empfänger", "Herkunft der Daten",
                     "Supportkommunikation", "6 Monate", "10 Jahre ab Ende des Kalenderjahres", "LfDI",
                     "tickets.csv: Ihre Support-Tickets", "(3 Einträge)", "Nicht in diesem Paket enthalten",
                     "Kommunikationsverlauf", "Ort, Datum"):
        assert expected in letter, expected
    for name in files.values():  # the letter names every file of the package
        assert f"{name}: " in letter, name
    assert job.rows == 1 + 1 + 3 + 1 + 1 + 1 + 2 + 1 + 0  # contact, its one identity, tickets, ...
    machine = _run(store, "subject_access", {"contact_id": "S1", "format": "machine"})
    with zipfile.ZipFile(machine.path) as zf:
        assert "contact.csv" in zf.namelist()
        assert _rows_from(zf, "identities.csv") == [["source", "source_contact_id"], ["fixture", "S1"]]
        invoice = _rows_from(zf, "invoices.csv")
        assert invoice[1][invoice[0].index("amount_eur")] == "-5,25"  # the lists' dialect: ';' with decimal commas


def test_subject_access_says_what_an_erasure_restricts_and_until_when(store):
    """Section 5: S2's erasure request was completed, but the invoice is kept by statute: the package's
    invoice file says "eingeschränkt bis" its retained-until date, and the letter explains it."""
    import docx

    job = _run(store, "subject_access", {"contact_id": "S2"})
    assert job.status == "succeeded", job.error
    with zipfile.ZipFile(job.path) as zf:
        invoices = _rows_from(zf, "rechnungen.csv")
        row = dict(zip(invoices[0], invoices[1], strict=True))
        assert (row["Aufbewahren bis"], row["Eingeschränkt bis"]) == ("31.12.2034", "31.12.2034")
        letter = "\n".join(p.text for p in docx.Document(io.BytesIO(zf.read("Auskunft_Art15.docx"))).paragraphs)
    assert "1 Datensätze müssen wir noch aufbewahren" in letter and "spätestens nach dem 31.12.2034" in letter
    # S1 asked for no erasure: nothing restricted, no such sentence, the column empty.
    job = _run(store, "subject_access", {"contact_id": "S1"})
    with zipfile.ZipFile(job.path) as zf:
        invoices = _rows_from(zf, "rechnungen.csv")
        assert invoices[1][invoices[0].index("Eingeschränkt bis")] == ""
        letter = "\n".join(p.text for p in docx.Document(io.BytesIO(zf.read("Auskunft_Art15.docx"))).paragraphs)
    assert "eingeschränkt" not in letter



def test_the_art15_letter_is_an_a4_letter_ready_to_sign(store):
    """A4 with DIN 5008 margins; the company's address from data/art15.toml as the sender's line, the
    subject's postal address, place and date, the request's reference, the subject line in bold and a
    greeting; names written as they are (the spreadsheet guard's apostrophe stays in the CSV files)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    job = _run(store, "subject_access", {"contact_id": "S1", "request_id": "Q0", "received": "2026-11-10"})
    with zipfile.ZipFile(job.path) as zf:
        document = docx.Document(io.BytesIO(zf.read("Auskunft_Art15.docx")))
        contact = _rows_from(zf, "stammdaten.csv")
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297  # A4, not US Letter
    assert round(section.left_margin.mm) == 25 and round(section.right_margin.mm) == 20
    paragraphs = [p for p in document.paragraphs if p.text]
    texts = [p.text for p in paragraphs]
    assert texts[0] == "aelvirionek · In der Lohe 14 · 55546 Neu-Bamberg"
    assert texts[1] == '=HYPERLINK("http://x") +Muster\n@Weg 1\n55546 \tNeu-Bamberg'  # no apostrophe here
    assert contact[1][contact[0].index("Vorname")].startswith("'=")  # but in the spreadsheet file
    assert re.fullmatch(r"Neu-Bamberg, \d\d\.\d\d\.\d{4}", texts[2])
    assert paragraphs[2].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert texts[3] == "Ihre Anfrage vom 10.11.2026 – unser Zeichen: Q0"
    assert texts[4] == "Auskunft nach Art. 15 DSGVO" and paragraphs[4].runs[0].bold
    assert texts[5] == 'Guten Tag =HYPERLINK("http://x") +Muster,'
    assert not [text for text in texts if text.startswith("'")]


def test_past_retention_is_found_before_a_package_is_sent(demo_data_dir, data_dir):
    """The demo's C90000012 still has records past their retention date (a package made now would name
    them); C90000013's are due because of an erasure request, not because their date passed. S1's tickets
    are past their date too, but S1's open request holds them: nothing to warn of."""
    from dashboard import data
    from dashboard.snapshot import current_snapshot

    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    try:
        assert data.run(con, "subject_past_retention", contact_id="C90000012", as_of=AS_OF).row(0) == (
            2, dt.date(2017, 12, 31))
        assert data.run(con, "subject_past_retention", contact_id="C90000013", as_of=AS_OF).row(0)[0] == 0
    finally:
        con.close()
    con = data.connect(current_snapshot(data_dir / "snapshots"))
    try:
        assert data.run(con, "subject_past_retention", contact_id="S1", as_of=AS_OF).row(0)[0] == 0
    finally:
        con.close()

def _rows_from(zf: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8-sig")), delimiter=";"))


def test_portability_json_holds_what_the_subject_provided(store):
    job = _run(store, "portability", {"contact_id": "S1"})
    document = json.loads(job.path.read_text(encoding="utf-8"))
    assert document["contact"]["email"] == "s1@example.org"
    assert len(document["tickets"]) == 3 and len(document["consents"]) == 2 and len(document["requests"]) == 1
    assert "invoices" not in document  # generated by the company, not provided by the subject


def test_management_report_opens_and_holds_the_headline_figures(store, data_dir):
    import openpyxl

    from dashboard import data, kpis
    from dashboard.policy import load_policy
    from dashboard.snapshot import current_snapshot

    job = _run(store, "management_report", {}, role="management", user="chef")
    assert job.status == "succeeded", job.error
    wb = openpyxl.load_workbook(job.path)
    assert wb.sheetnames == ["Übersicht", "Betroffenenanfragen", "Löschfristen", "Einwilligungen", "Datenpannen"]
    values = {r[1]: r[2] for r in wb["Übersicht"].iter_rows(min_row=5, values_only=True) if r[1]}
    con = data.connect(current_snapshot(data_dir / "snapshots"))
    built = data.run(con, "snapshot_info")["built_at"][0]
    now = built.astimezone(dt.UTC).replace(second=0, microsecond=0)
    figures = kpis.headline(functools.partial(data.run, con), now.astimezone(jobs_berlin()).date(), now,
                            load_policy().settings)
    assert values["Offene Anfragen"] == figures["requests_open"] == 5
    assert values["Löschrückstand (Datensätze)"] == figures["retention_due"]
    assert values["Einwilligungsquote Newsletter (%)"] == figures["consent_rate_newsletter"] == 100.0
    text = " ".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    assert "s1@example.org" not in text and "S1" not in text.split()  # no personal data


def jobs_berlin():
    from dashboard.deadlines import BERLIN

    return BERLIN


def test_expiry_sweep_deletes_files_keeps_records(store):
    job = _run(store, "list_csv", _queue_export())
    assert store.sweep() == []  # not expired yet
    later = dt.datetime.now(dt.UTC) + jobs.DEFAULT_TTL + dt.timedelta(minutes=1)
    assert store.sweep(now=later) == [job.id]
    expired = store.get(job.id)
    assert (expired.status, expired.file) == ("expired", None)
    assert not job.path.exists() and expired.sha256 == job.sha256


def test_expiry_is_configurable(store, monkeypatch):
    monkeypatch.setenv("DASHBOARD_EXPORT_TTL_DAYS", "0.5")
    job = _run(store, "list_csv", _queue_export())
    kept = dt.datetime.fromisoformat(job.expires_at) - dt.datetime.fromisoformat(job.finished_at)
    assert kept == dt.timedelta(hours=12)
    monkeypatch.setenv("DASHBOARD_EXPORT_TTL_DAYS", "soon")
    with pytest.raises(DashboardError, match="DASHBOARD_EXPORT_TTL_DAYS"):
        jobs.export_ttl()


def test_audit_trail_is_append_only_and_records_downloads(store):
    job = _run(store, "list_csv", _queue_export())
    store.audit("dsb", "dpo", "download", job.kind, job.id, job.params, job.rows, job.sha256)
    assert [e["action"] for e in store.audit_entries()] == ["download", "export"]
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET user = 'someone else'")
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    audit = _run(store, "audit_csv", {"user": "dsb"})
    assert audit.rows == 2


def test_cli_export_runs_the_same_job_path(store, data_dir, monkeypatch, capsys, tmp_path):
    from dashboard.cli import main

    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))
    roles = tmp_path / "roles.toml"  # the operators' roles, as the app reads them
    roles.write_text('[users]\n"cron" = "dpo"\n"chef" = "management"\n', encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_ROLES_FILE", str(roles))
    monkeypatch.setenv("DASHBOARD_AUTH", "oidc")
    assert main(["export", "deletion_worklist", "--system", "helpdesk", "--as-of", "2026-11-26",
                 "--user", "cron", "--role", "dpo"]) == 0
    assert "rows ->" in capsys.readouterr().out
    assert main(["export", "subject_access", "--contact-id", "S1", "--role", "management", "--user", "chef"]) == 2
    with pytest.raises(SystemExit):  # Who asks, and in which role, is never assumed
        main(["export", "deletion_worklist", "--system", "helpdesk", "--as-of", "2026-11-26"])
    assert "the following arguments are required: --user, --role" in capsys.readouterr().err
    state = jobs.JobStore(data_dir / "state" / "jobs.sqlite", data_dir / "exports")
    assert state.audit_entries()[0]["user"] == "cron"



def test_art15_package_covers_every_table_that_names_a_subject():
    """The schema marks which tables name a data subject; the Art. 15 package reads each of them
    (incident_records only link the breach register to records: the breach itself is disclosed to
    the subject under Art. 34, not in this package)."""
    from dashboard.exports import SUBJECT_CATEGORIES
    from dashboard.schema import subject_tables

    assert set(subject_tables()) - {"incident_records"} <= set(SUBJECT_CATEGORIES.values())


def test_masking_follows_the_schema_marks():
    """Every column marked personal or free text is left out for management. Query results are masked by
    column name, so an unmarked column sharing a marked one's name is masked too: only the pause reason
    (a code, named like the holds' free-text reason) is."""
    from dashboard import data
    from dashboard.schema import TABLES

    over_masked = []
    for table in TABLES:
        frame = pl.DataFrame({c.name: ["x"] for c in table.columns})
        masked = data.mask_personal(frame, "management").columns
        for column in table.columns:
            if column.personal or column.free_text:
                assert column.name not in masked, (table.name, column.name)
            elif column.name not in masked:
                over_masked.append(f"{table.name}.{column.name}")
        assert data.mask_personal(frame, "dpo").row(0) == frame.row(0)
    assert over_masked == ["request_pauses.reason"]


def test_hold_reasons_the_rules_derive_are_in_the_files_language(store, demo_data_dir, use_data_dir):
    """A derived hold's reason is a code with catalogue labels (a recorded hold keeps the text its
    author typed); the machine-readable file keeps the code."""
    use_data_dir(demo_data_dir)
    params = {"as_of": dt.date(2026, 11, 26), "window_days": 30, "categories": [], "systems": [],
              "statuses": ["held"], "until_from": None, "until_to": None}

    def reasons(**fmt) -> set[str]:
        rows = _rows(_run(store, "list_csv", {"query": "retention_due_list", "params": params, **fmt}).path, ";")
        titles = [title.lstrip("\ufeff") for title in rows[0]]
        column = next(i for i, title in enumerate(titles) if title in ("hold_reason", "Sperrgrund", "Hold reason"))
        return {r[column] for r in rows[1:]}

    german, english = reasons(format="readable", lang="de"), reasons(format="readable", lang="en")
    assert {"Offene Betroffenenanfrage", "Offene Datenpanne"} <= german
    assert {"Open data subject request", "Open incident"} <= english
    assert not english & {"Offene Betroffenenanfrage", "Offene Datenpanne"}
    assert {"open_request", "open_incident"} <= reasons()  # machine-readable: the codes


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))


def test_the_files_an_office_sends_are_german_unless_machine_readable_is_asked(demo_data_dir, use_data_dir, tmp_path):
    """The Löschliste a DPO hands to a team and the audit trail: German titles, labels and dates as the
    pages ask for them; codes, ISO dates and UTC only when "maschinenlesbar" is ticked."""
    use_data_dir(demo_data_dir)
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    readable = {"format": "readable", "lang": "de"}
    worklist = _run(store, "deletion_worklist", {"system": "helpdesk", "as_of": AS_OF, **readable})
    header, *rows = _csv_rows(worklist.path)
    assert header[:4] == ["Art", "Datensatz", "Kategorie", "Aufbewahren bis"], header
    assert rows and all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", r[3]) for r in rows), rows[:2]
    assert {r[0] for r in rows} <= {"Ticket", "Anhang", "Stammdaten", "Vertrag", "Rechnung"}, rows[:2]
    machine = _run(store, "deletion_worklist", {"system": "helpdesk", "as_of": AS_OF, "format": "machine"})
    assert _csv_rows(machine.path)[0][:4] == ["record_type", "record_id", "category", "retained_until"]

    audit = _run(store, "audit_csv", {"user": "dsb", **readable})
    header, *rows = _csv_rows(audit.path)
    assert header == ["Nr.", "Zeitpunkt", "Person", "Rolle", "Aktion", "Art", "Auftrag", "Parameter", "Zeilen",
                      "SHA-256"], header
    assert {r[4] for r in rows} <= {"erstellt", "heruntergeladen"} and {r[3] for r in rows} == {
        "Datenschutzbeauftragte/r"}
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \+0[12]:00", r[1]) for r in rows), rows[0]
    assert not [r for r in rows if r[7].startswith("{")] and "system: helpdesk" in rows[-1][7], rows[-1]
    assert "as_of: 26.11.2026" in rows[-1][7], rows[-1]
    machine = _run(store, "audit_csv", {"user": "dsb", "format": "machine"})
    header, first, *_ = _csv_rows(machine.path)
    assert header[:5] == ["seq", "at", "user", "role", "action"] and first[1].endswith("+00:00")


def test_the_management_report_writes_counts_whole_with_light_threshold_and_change(store, data_dir):
    """The overview sheet: a count as a whole number ("5", not "5,0"), a rate with one place and a percent
    sign, each figure's traffic light, thresholds in words and change; the incidents sheet says which
    table counts all open breaches and which the last 12 months."""
    import openpyxl

    job = _run(store, "management_report", {}, role="management", user="chef")
    sheet = openpyxl.load_workbook(job.path)["Übersicht"]
    header = [c.value for c in sheet[4]]
    assert header == ["Bereich", "Kennzahl", "Wert", "Ampel", "Schwellen", "Veränderung ggü. vorigem Datenstand"]
    cells = {row[1].value: row for row in sheet.iter_rows(min_row=5) if row[1].value}
    assert cells["Offene Anfragen"][2].number_format == "#,##0" and cells["Offene Anfragen"][2].value == 5
    assert cells["Einwilligungsquote Newsletter (%)"][2].number_format == '0.0" %"'
    assert cells["Überfällige Anfragen"][4].value == "Ampel: im Soll bis 0, beobachten bis 2, handeln ab mehr als 2 " \
                                                   "(Schwellen der Löschrichtlinie)."
    assert {row[3].value for row in cells.values()} <= {"im Soll", "beobachten", "handeln", "ohne Schwelle"}
    incidents = [c.value for row in openpyxl.load_workbook(job.path)["Datenpannen"].iter_rows() for c in row if c.value]
    assert "Noch nicht abgeschlossene Vorfälle nach Meldefrist-Status (Art. 33 DSGVO)" in incidents
    assert "Kennzahlen der letzten 12 Monate (Kenntnis im Zeitraum)" in incidents
