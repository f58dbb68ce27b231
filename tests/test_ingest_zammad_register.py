"""The privacy register read from Zammad: requests, pauses, events, breaches, affected records
and holds, on Zammad's published table layouts (tests/fixtures/zammad.sql), set up as docs/CONNECTORS.md
says (tests/fixtures/zammad_register_setup.sql: groups and attributes created the way Zammad's object
manager does), read through the read-only role of deploy/zammad-readonly.sql and
deploy/zammad-register-readonly.sql in a real PostgreSQL.

The same facts are also written by hand as register files; both snapshots must hold the same register
and show the same figures. The Zammad facts themselves are in tests/helpdesks.py (the Znuny register test
writes them into Znuny too).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dashboard import cli, data
from dashboard.build import build_snapshot
from dashboard.snapshot import connect as open_snapshot
from tests.helpdesks import BILLING, FIGURE_CHECKS, REGISTER_TABLES, setup_zammad, zammad_sources
from tests.helpers import DPO, signed_in_app
from tests.helpers import snapshot_rows as _rows
from tests.pg import database, run

pytestmark = pytest.mark.postgres
UTC = dt.UTC


def _t(text: str | None) -> str | None:
    """A UTC time as a register file writes it."""
    return None if text is None else text.replace(" ", "T") + ":00Z"


# The same facts, written by hand as register files (the mapping of docs/CONNECTORS.md, worked out).
def _request(rid, contact, right, channel, received, status, closed=None, verified=None, extension=None,
             reason=None):
    return {"request_id": rid, "contact_id": contact, "right": right, "channel": channel, "received_at": received,
            "identity_verified_at": verified, "extension_notified_at": _t(extension), "extension_reason": reason,
            "status": status, "closed_at": _t(closed), "outcome": None, "assignee": None}


FILE_REGISTER = {
    "requests": [
        _request("20", "3", "access", "email", _t("2026-03-02 09:00"), "in_progress"),
        _request("21", "5", "erasure", "web_form", _t("2026-04-01 07:00"), "completed", closed="2026-04-20 12:00",
                 verified="2026-04-02T00:00:00+02:00"),
        _request("22", "3", "access", "phone", _t("2026-05-04 08:00"), "in_progress"),
        _request("23", "5", "rectification", "letter", "2026-01-02T00:00:00+01:00", "paused",
                 extension="2026-03-01 10:00", reason="Umfang der Daten"),
        _request("24", "3", "objection", "email", _t("2026-11-20 09:00"), "received"),
        _request("25", "3", "access", "email", _t("2026-05-05 07:00"), "duplicate", closed="2026-05-05 12:00"),
        _request("27", None, "access", "email", _t("2026-11-25 09:00"), "received"),
    ],
    "request_pauses": [
        {"pause_id": "zammad-21-4", "request_id": "21", "start_date": "2026-04-03", "end_date": "2026-04-10",
         "reason": "clarification"},
        {"pause_id": "zammad-23-11", "request_id": "23", "start_date": "2026-01-06", "end_date": None,
         "reason": "identity_proof"},
    ],
    "incidents": [
        {"incident_id": "30", "title": "Laptop gestohlen", "type": "confidentiality",
         "detected_at": _t("2026-05-04 07:00"), "aware_at": _t("2026-05-04 08:00"), "personal_data": True,
         "risk": "risk", "subjects_affected": 40, "authority_notified_at": _t("2026-05-07 16:00"),
         "delay_reason": "Forensik abgewartet", "subjects_informed_at": None, "art34_exemption": None,
         "art34_exemption_at": None, "status": "closed", "contained_at": _t("2026-05-05 12:00"),
         "closed_at": _t("2026-06-01 10:00")},
        {"incident_id": "31", "title": "Backup-Server", "type": "availability",
         "detected_at": _t("2026-10-01 06:00"), "aware_at": _t("2026-10-01 10:00"), "personal_data": True,
         "risk": "high", "subjects_affected": 1200, "authority_notified_at": _t("2026-10-02 09:00"),
         "delay_reason": None, "subjects_informed_at": None, "art34_exemption": "a",
         "art34_exemption_at": _t("2026-10-02 10:00"), "status": "notified", "contained_at": None,
         "closed_at": None},
    ],
    "incident_records": [
        {"link_id": "zammad-link-1", "incident_id": "30", "record_type": "ticket", "record_id": "1"},
        {"link_id": "zammad-link-2", "incident_id": "30", "record_type": "ticket", "record_id": "3"},
    ],
    "holds": [
        {"hold_id": "zammad-tag-16", "record_type": "ticket", "record_id": "1", "kind": "legal",
         "reason": "Zammad-Tag loeschsperre", "set_by": "tom", "set_at": _t("2026-04-01 08:00"),
         "review_date": None, "released_at": _t("2026-06-01 08:00")},
        {"hold_id": "zammad-tag-18", "record_type": "ticket", "record_id": "3", "kind": "legal",
         "reason": "Zammad-Tag loeschsperre", "set_by": "tom", "set_at": _t("2026-07-01 09:00"),
         "review_date": None, "released_at": None},
    ],
}
@pytest.fixture(scope="module")
def zammad(pg_dsn):
    return setup_zammad(pg_dsn, "zammad_register")


def _table(path: Path, table: str, drop: tuple[str, ...] = ()) -> list[tuple]:
    con = open_snapshot(path)
    try:
        frame = con.sql(f"SELECT * FROM {table}").pl()
        columns = [c for c in frame.columns if c not in drop]
        return sorted(frame.select(columns).rows(), key=repr), columns
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(zammad, tmp_path_factory, request):
    """Both snapshots: the register from Zammad, and the same facts as files (contacts and tickets from
    Zammad in both)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("ZAMMAD_DSN", zammad)
    request.addfinalizer(mp.undo)
    root = tmp_path_factory.mktemp("register")
    from_zammad = build_snapshot(zammad_sources(root / "z", BILLING), data_dir=root / "z-data")
    files = zammad_sources(root / "f", {**BILLING, **FILE_REGISTER})
    text = files.read_text(encoding="utf-8")
    for table in REGISTER_TABLES:
        text = text.replace(f'[tables.{table}]\nsource = "helpdesk"\n',
                            f'[tables.{table}]\nsource = "fixture"\nfile = "{table}.jsonl"\n')
    files.write_text(text, encoding="utf-8")
    from_files = build_snapshot(files, data_dir=root / "f-data")
    return from_zammad, from_files


def test_the_register_from_zammad_is_the_register_written_by_hand(built):
    """Every register table holds the same rows, derived columns included (deadlines, extension
    validity, on-time answers, breach deadlines): the request moved into the group 19 days after it
    arrived runs from its arrival, back-to-back pending states are one pause, the reopened request has
    no closing time, the extension tagged after the deadline is invalid (R1.6), the lawyer's request is
    Anna's, the merged duplicate is closed at the merge, the breach notified after 80 hours keeps its
    reason, the hold tag added and removed is a released hold."""
    z, f = built
    for table in ("requests", "request_pauses", "incidents", "incident_records", "holds"):
        drop = ("subject_email",) if table == "requests" else ()
        assert _table(z.path, table, drop) == _table(f.path, table, drop), table
    requests = {r[0]: r[1:] for r in _rows(z.path, "SELECT request_id, received_date, deadline, extension, status, "
                                                   "closed_at, contact_id FROM requests")}
    assert requests["20"][:2] == (dt.date(2026, 3, 2), dt.date(2026, 4, 2))  # not from the move on 21 March
    assert requests["23"][1:3] == (dt.date(2026, 2, 2), "invalid_late")  # R1.6: notified after the deadline
    assert requests["22"][3:5] == ("in_progress", None)  # reopened: last_close_at is stale
    assert requests["24"][5] == "3" and requests["27"][5] is None
    assert "26" not in requests


def test_same_figures_on_every_page(built):
    """The requests, breach and retention figures of both snapshots, at a date and a moment."""
    z, f = built
    checks = [*FIGURE_CHECKS, ("subject_holds", {"contact_id": "3"})]
    cons = [open_snapshot(s.path) for s in (z, f)]
    try:
        for name, params in checks:
            left, right = (data.run(c, name, **params) for c in cons)
            assert left.rows() == right.rows(), name
            assert left.height, name
    finally:
        for c in cons:
            c.close()


def test_events_are_times_and_codes_never_texts(built):
    z, _ = built
    events = _rows(z.path, "SELECT request_id, occurred_at, event, detail FROM request_events ORDER BY ALL")
    assert ("20", dt.datetime(2026, 3, 21, 10, tzinfo=UTC), "moved_in", None) in events
    assert ("20", dt.datetime(2026, 3, 2, 9, tzinfo=UTC), "message_in", None) in events
    assert ("21", dt.datetime(2026, 4, 20, 12, tzinfo=UTC), "message_out", None) in events
    assert ("23", dt.datetime(2026, 3, 1, 10, tzinfo=UTC), "tag_added", "fristverlaengerung") in events
    assert ("22", dt.datetime(2026, 5, 12, 8, tzinfo=UTC), "state_changed", "open") in events
    texts = {"Bitte um Auskunft", "Formular", "Erledigt", "Anruf", "Brief eingescannt", "Auskunft", "Löschung"}
    assert not texts & {e[3] for e in events}
    assert {e[2] for e in events} <= {"received", "identity_verified", "moved_in", "state_changed", "tag_added",
                                      "tag_removed", "message_in", "message_out"}


def test_the_helpdesk_deletion_rule_is_held_against_the_policy(built):
    """A rule deleting closed tickets after 12 months while the policy says 6."""
    z, _ = built
    findings = _rows(z.path, "SELECT finding, subject FROM source_findings WHERE source = 'helpdesk' "
                             "AND finding LIKE 'deletion_rule%' ORDER BY finding")
    assert [f for f, _ in findings] == ["deletion_rule", "deletion_rule_differs"]
    rule = json.loads(findings[0][1])
    assert (rule["name"], rule["attribute"], rule["period"], rule["unit"], rule["processed"]) == (
        "Alte Tickets löschen", "ticket.close_at", 12, "month", 14)
    assert rule["last_run"].startswith("2026-12-01T03:00")
    # The lawyer who wrote for someone nobody knows: a request without a subject, and a finding.
    assert ("request_subject_unknown", "27") in _rows(z.path, "SELECT finding, subject FROM source_findings")
    # The request without a valid right is kept aside with its reason.
    assert _rows(z.path, "SELECT record_key, reason FROM rejected_rows WHERE table_name = 'requests'") == [
        ("26", "right: unknown value (allowed: access/rectification/erasure/restriction/portability/objection)")]


BAD = """
-- text in a datetime attribute: the DPO created incident_contained_at as a text field
ALTER TABLE tickets ALTER COLUMN incident_contained_at TYPE varchar(255);
UPDATE tickets SET incident_contained_at = 'gestern abend' WHERE id = 31;
-- a history row whose state was deleted since (neither its id nor its name exists)
INSERT INTO histories (history_type_id, history_object_id, history_attribute_id, o_id, id_from, id_to, value_from,
                       value_to, created_by_id, created_at, updated_at) VALUES
 (3, 5, 9, 20, 2, 99, 'open', 'alter Status', 2, '2026-03-22 10:00', '2026-03-22 10:00');
-- a missing grant on one attribute
REVOKE SELECT (dsgvo_extension_reason) ON tickets FROM dsgvo_cockpit_zammad;
"""


def test_bad_input_is_named_and_the_rest_is_read(pg_dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("ZAMMAD_DSN", setup_zammad(pg_dsn, "zammad_register_bad", BAD))
    result = build_snapshot(zammad_sources(tmp_path / "z", BILLING), data_dir=tmp_path / "data")
    findings = _rows(result.path, "SELECT finding, subject FROM source_findings WHERE finding LIKE 'register%' "
                                  "ORDER BY ALL")
    assert ("register_attribute_missing", "dsgvo_extension_reason (input)") in findings
    assert ("register_state_unknown", "Ticket 20: alter Status") in findings
    assert _rows(result.path, "SELECT record_key, reason FROM rejected_rows WHERE table_name = 'incidents'") == [
        ("31", "contained_at: not a valid TIMESTAMPTZ")]
    assert _rows(result.path, "SELECT incident_id FROM incidents") == [("30",)]
    assert _rows(result.path, "SELECT count(*), count(extension_reason) FROM requests") == [(7, 0)]


@pytest.mark.parametrize("page", ["views/overview.py", "views/requests.py", "views/incidents.py",
                                  "views/retention.py", "views/quality.py", "views/consent.py", "views/exports.py"])
def test_every_page_works_on_a_zammad_fed_register(built, monkeypatch, page):
    """The pages on a snapshot whose register came from Zammad; Löschfristen says the helpdesk
    deletes after 12 months while the policy says 6, Datenqualität names the unknown subject."""
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(built[0].path.parent.parent))
    at = signed_in_app(monkeypatch, DPO, page)
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if "Unerwarteter Fehler" in e.value]
    assert at.metric or page in ("views/exports.py", "views/quality.py"), "not signed in"
    warnings = [w.value for w in at.warning]
    if page == "views/retention.py":
        assert any("„Alte Tickets löschen“ löscht Tickets 12 Monate nach „ticket\\.close\\_at“ – die Richtlinie sagt "
                   "6 Monate nach dem Schließen" in w for w in warnings), warnings
    if page == "views/quality.py":
        assert any("Anfrage 27 nennt eine betroffene Person per E-Mail" in w for w in warnings), warnings


def test_sources_check_reports_the_documented_setup_complete(zammad, built, monkeypatch, capsys):
    """After the setup of docs/CONNECTORS.md (tests/fixtures/zammad_register_setup.sql),
    ``sources check`` says every table, grant, group and attribute is there, one line each."""
    monkeypatch.setenv("ZAMMAD_DSN", zammad)
    sources = built[0].path.parent.parent.parent / "z" / "files" / "sources.toml"
    assert cli.main(["sources", "check", "--sources", str(sources)]) == 0
    out = capsys.readouterr().out
    assert "MISSING" not in out
    assert "ok       helpdesk (zammad): requests: group Datenschutz" in out
    assert "ok       helpdesk (zammad): incidents: attributes (11)" in out
    assert "ok       helpdesk (zammad): holds: tag loeschsperre" in out


def test_sources_check_names_what_is_missing(pg_dsn, tmp_path, monkeypatch, capsys):
    dsn = setup_zammad(pg_dsn, "zammad_register_check", """
        REVOKE SELECT (dsgvo_extension_reason) ON tickets FROM dsgvo_cockpit_zammad;
        UPDATE object_manager_attributes SET data_type = 'input' WHERE name = 'incident_aware_at';
        REVOKE SELECT (value_to) ON histories FROM dsgvo_cockpit_zammad;
        UPDATE groups SET name = 'DSGVO' WHERE name = 'Datenpannen';""")
    monkeypatch.setenv("ZAMMAD_DSN", dsn)
    assert cli.main(["sources", "check", "--sources", str(zammad_sources(tmp_path, BILLING))]) == 1
    out = capsys.readouterr().out
    for line in ("MISSING  helpdesk (zammad): requests: attribute dsgvo_extension_reason: no SELECT grant",
                 "MISSING  helpdesk (zammad): incidents: attribute incident_aware_at is input, should be datetime",
                 "MISSING  helpdesk (zammad): incidents: group Datenpannen not found",
                 "MISSING  helpdesk (zammad): holds: table public.histories: no SELECT grant on column value_to"):
        assert line in out, out


# Zammad's own deletion tasks. Before the first build: Anna's deletion failed, Kanzlei's has been
# in process since 1 December, and an old ticket deletion from October 2025.
TASKS_BEFORE = """
INSERT INTO data_privacy_tasks (id, state, deletable_type, deletable_id, preferences, updated_by_id, created_by_id,
                                created_at, updated_at) VALUES
 (1, 'failed', 'User', 3, '--- {user: {firstname: A*** }}', 2, 2, '2026-11-30 10:00', '2026-11-30 10:01'),
 (2, 'completed', 'Ticket', 1, '---', 2, 2, '2025-10-01 00:00', '2025-10-01 00:05'),
 (3, 'in process', 'User', 4, '---', 2, 2, '2026-12-01 08:00', '2026-12-01 08:00');
"""
# Then the DPO carries out Max's erasure request (ticket 21): the request ticket goes to the lawyer's
# contact with Max's e-mail (Zammad would delete it with him), Max and his other ticket are deleted, the task
# completes; Zammad's cleanup has removed the task of October 2025 (older than 12 months).
ERASURE = """
UPDATE tickets SET customer_id = 4, dsgvo_subject_email = 'max.muster@example.org' WHERE id = 21;
DELETE FROM tickets WHERE id = 23;
DELETE FROM roles_users WHERE user_id = 5;
DELETE FROM users WHERE id = 5;
INSERT INTO data_privacy_tasks (id, state, deletable_type, deletable_id, preferences, updated_by_id, created_by_id,
                                created_at, updated_at)
 VALUES (4, 'completed', 'User', 5, '--- {user: {firstname: M*** }}', 2, 2, '2026-04-20 11:00', '2026-04-20 11:02');
DELETE FROM data_privacy_tasks WHERE id = 2;
"""


def test_erasure_proof_outlives_the_person_and_zammads_own_task(pg_dsn, tmp_path, monkeypatch):
    """A completed deletion task proves Max's erasure request although Max is gone from Zammad (matched by
    his Zammad user id in the earlier snapshot, never by the pseudonymised name), also after a full
    rebuild; the task Zammad removed after 12 months stays in the ledger; a failed task and one in process
    for more than a day are findings; the proof list exports as CSV."""
    dsn = setup_zammad(pg_dsn, "zammad_erasure", TASKS_BEFORE)
    monkeypatch.setenv("ZAMMAD_DSN", dsn)
    sources = zammad_sources(tmp_path / "z", BILLING)
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.deletion_tasks]\nsource = "fixture"\nfile = "deletion_tasks.jsonl"\n', "")
    sources.write_text(text + '[tables.deletion_tasks]\nsource = "helpdesk"\n', encoding="utf-8")
    data_dir = tmp_path / "data"
    first = build_snapshot(sources, data_dir=data_dir)
    assert _rows(first.path, "SELECT task_id, record_type, record_id, state, last_seen_at FROM deletion_tasks "
                             "ORDER BY task_id") == [
        ("1", "subject", "3", "failed", None), ("2", "ticket", "1", "completed", None),
        ("3", "subject", "4", "in_process", None)]
    assert _rows(first.path, "SELECT * FROM erasure_proofs") == []  # Max's erasure is not carried out yet

    run(database(pg_dsn, "zammad_erasure"), ERASURE)
    second = build_snapshot(sources, data_dir=data_dir)
    for result in (second, build_snapshot(sources, data_dir=data_dir, full=True)):
        assert _rows(result.path, "SELECT count(*) FROM contacts WHERE contact_id = '5'") == [(0,)]
        assert _rows(result.path, "SELECT request_id, task_id, system, state, completed_at FROM erasure_proofs") == [
            ("21", "4", "helpdesk", "completed", dt.datetime(2026, 4, 20, 11, 2, tzinfo=UTC))]
        gone = _rows(result.path, "SELECT state, last_seen_at IS NOT NULL FROM deletion_tasks WHERE task_id = '2'")
        assert gone == [("completed", True)]  # Zammad forgot it; the ledger did not
    ledger = [json.loads(line) for line in (data_dir / "state" / "deletion-ledger" / "helpdesk.jsonl")
              .read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], e.get("task_id")) for e in ledger if e["kind"] != "read"] == [
        ("task", "1"), ("task", "2"), ("task", "3"), ("task", "4"), ("gone", "2")]
    assert not any("preferences" in e or "M***" in json.dumps(e) for e in ledger)

    con = open_snapshot(second.path)
    try:
        now = dt.datetime(2026, 12, 7, 12, tzinfo=UTC)
        unfinished = data.run(con, "deletion_task_findings", now=now)
        assert unfinished.select("task_id", "state").rows() == [("1", "failed"), ("3", "in_process")]
        # a day earlier the task of 1 December was not yet more than a day in process
        earlier = data.run(con, "deletion_task_findings", now=dt.datetime(2026, 12, 2, 7, tzinfo=UTC))
        assert earlier["task_id"].to_list() == ["1"]
    finally:
        con.close()

    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(data_dir))
    at = signed_in_app(monkeypatch, DPO, "views/requests.py")
    at.session_state["requests_queue"] = {"selection": {"rows": [], "columns": []}}
    at.query_params["request"] = "21"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    proof = " ".join(m.value for m in at.markdown)
    assert "Helpdesk: gelöscht am 20.04.2026, 13:02 Uhr, Auftrag" in proof and "#4" in proof, proof
    assert any(c.value.startswith("Keine Person in den Systemen bekannt") for c in at.caption)  # Max is gone
    retention = signed_in_app(monkeypatch, DPO, "views/retention.py")
    assert any(e.label.startswith("Löschaufträge nicht abgeschlossen (2)") for e in retention.expander)

    from dashboard import jobs
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    done = jobs.execute(store, store.create("list_csv", {"query": "erasure_proofs", "params": {"request_id": None},
                                                         "filename": "loeschnachweise", "format": "readable",
                                                         "lang": "de"}, "dsb", "dpo").id)
    assert done.status == "succeeded", done.error
    text = done.path.read_bytes().decode("utf-8-sig")
    assert "21;" in text and "Helpdesk" in text and "gelöscht" in text, text


@pytest.mark.parametrize("kind, params", [
    ("subject_access", {"contact_id": "3", "lang": "de"}),  # Anna: her requests, the lawyer's among them
    ("portability", {"contact_id": "3"}),
    ("deletion_worklist", {"system": "helpdesk", "as_of": dt.date(2026, 12, 7)}),
    ("deletion_worklist", {"system": "billing", "as_of": dt.date(2026, 12, 7)}),
    ("management_report", {}),
    ("deadlines_ics", {}),
    ("list_csv", {"query": "request_queue", "params": dict(
        as_of=dt.date(2026, 12, 7), due_soon_days=7, show_hidden=True, rights=[], statuses=[], assignees=[],
        channels=[], overdue_only=False, due_within=None, received_from=None, received_to=None)}),
    ("list_csv", {"query": "incident_register", "params": dict(
        as_of=dt.datetime(2026, 12, 7, 12, tzinfo=UTC), warning_hours=24, clocks=[], window_months=None)}),
])
def test_every_export_works_on_a_zammad_fed_register(built, monkeypatch, tmp_path, kind, params):
    """Each export kind on the snapshot whose register came from Zammad."""
    from dashboard import jobs

    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(built[0].path.parent.parent))
    store = jobs.JobStore(tmp_path / "jobs.sqlite", tmp_path / "exports")
    done = jobs.execute(store, store.create(kind, params, "dsb", "dpo").id)
    assert done.status == "succeeded", done.error
    assert done.path.stat().st_size > 0
    assert done.rows > 0 or params.get("system") == "billing"  # nothing of billing's is due yet
    if kind == "subject_access":
        import zipfile

        with zipfile.ZipFile(done.path) as package:
            names = package.namelist()
            requests = next(n for n in names if "anfragen" in n.lower() or "requests" in n.lower())
            text = package.read(requests).decode("utf-8-sig")
        assert "24" in text and "Widerspruch" in text, text  # the lawyer's objection is Anna's
