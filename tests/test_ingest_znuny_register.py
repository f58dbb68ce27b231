"""The privacy register read from Znuny's dynamic fields, on Znuny's published table layout
(tests/fixtures/znuny.sql), set up as docs/CONNECTORS.md says (queues Datenschutz and Datenpannen, the
dynamic fields), read through the read-only role of deploy/znuny-readonly.sql and
deploy/znuny-register-readonly.sql in a real PostgreSQL whose OTRSTimeZone is Europe/Berlin.

The facts are the Zammad register test's (tests/test_ingest_zammad_register.py), written as Znuny writes
them: history rows that keep the state and queue after each change, checkbox fields for the hold and the
extension, local times. Both snapshots must hold the same register and show the same figures; only a
customer's key differs (Zammad's id, Znuny's login) and the ids the connectors make up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard import cli, data, paths
from dashboard.build import build_snapshot
from dashboard.snapshot import connect as open_snapshot
from tests.helpdesks import (
    ARTICLES_INTO,
    BILLING,
    FIGURE_CHECKS,
    HISTORY_INTO,
    TICKETS_INTO,
    helpdesk_sources,
    setup_zammad,
    zammad_sources,
)
from tests.helpers import snapshot_rows as _rows
from tests.pg import as_role, database, run

pytestmark = pytest.mark.postgres
FIXTURES = Path(__file__).parent / "fixtures"
BERLIN = ZoneInfo("Europe/Berlin")
LOGINS = {"anna": "3", "kanzlei": "4", "max": "5"}  # Znuny's login -> the same person's Zammad id
AGENT = "tom@aelvirionek.example"  # a breach ticket's customer is the agent who opened it (in Zammad too: id 2)
LOGINS[AGENT] = "2"
STATES = {"new": 1, "closed successful": 2, "open": 4, "pending reminder": 6, "pending auto close+": 7, "merged": 9}
QUEUES = {"Users": 1, "Netzwerk": 2, "Datenschutz": 3, "Datenpannen": 4}
FIELDS = [  # name, field type (docs/CONNECTORS.md, Znuny step 2)
    ("DSGVORight", "Dropdown"), ("DSGVOReceived", "Date"), ("DSGVOOutcome", "Dropdown"),
    ("DSGVOIdentityVerified", "Date"), ("DSGVOSubjectEmail", "Text"), ("DSGVOExtensionReason", "Text"),
    ("DSGVOExtension", "Checkbox"), ("DSGVOLoeschsperre", "Checkbox"), ("IncidentDetectedAt", "DateTime"),
    ("IncidentAwareAt", "DateTime"), ("IncidentNotifiedAt", "DateTime"), ("IncidentSubjectsInformedAt", "DateTime"),
    ("IncidentContainedAt", "DateTime"), ("IncidentType", "Dropdown"), ("IncidentRisk", "Dropdown"),
    ("IncidentArt34Exemption", "Dropdown"), ("IncidentPersonalData", "Checkbox"),
    ("IncidentSubjectsAffected", "Text"), ("IncidentDelayReason", "TextArea"),
]
FIELD_ID = {name: i for i, (name, _kind) in enumerate(FIELDS, start=1)}

# Tickets: id, queue, customer login, title, created (UTC), its history: (kind, state, queue, UTC time, detail)
# ("field" rows name the field and its new value; Znuny writes the state and queue after each change).
TICKETS = [
    (1, "Netzwerk", "anna", "VPN", "2026-01-05 08:00", [
        ("StateUpdate", "closed successful", None, "2026-03-20 23:30", None),
        ("field", None, None, "2026-04-01 08:00", ("DSGVOLoeschsperre", "1")),
        ("field", None, None, "2026-06-01 08:00", ("DSGVOLoeschsperre", "0"))]),
    (3, "Users", "anna", "Drucker", "2026-06-01 08:00", [
        ("StateUpdate", "open", None, "2026-06-01 09:00", None),
        ("field", None, None, "2026-07-01 09:00", ("DSGVOLoeschsperre", "1"))]),
    # opened in Users on 2 March, moved into Datenschutz on 21 March: received on 2 March
    (20, "Users", "anna", "Auskunft", "2026-03-02 09:00", [
        ("Move", None, "Datenschutz", "2026-03-21 10:00", None),
        ("StateUpdate", "open", None, "2026-03-21 10:05", None)]),
    # pending reminder, then pending auto: one pause; then closed
    (21, "Datenschutz", "max", "Löschung", "2026-04-01 07:00", [
        ("StateUpdate", "open", None, "2026-04-01 08:00", None),
        ("StateUpdate", "pending reminder", None, "2026-04-03 09:00", None),
        ("StateUpdate", "pending auto close+", None, "2026-04-06 09:00", None),
        ("StateUpdate", "open", None, "2026-04-10 09:00", None),
        ("StateUpdate", "closed successful", None, "2026-04-20 12:00", None)]),
    # closed on 10 May, reopened on 12 May
    (22, "Datenschutz", "anna", "Auskunft", "2026-05-04 08:00", [
        ("StateUpdate", "open", None, "2026-05-04 09:00", None),
        ("StateUpdate", "closed successful", None, "2026-05-10 10:00", None),
        ("StateUpdate", "open", None, "2026-05-12 08:00", None)]),
    # a letter received on 2 January, entered on 5 January; the extension checked on 1 March, too late
    (23, "Datenschutz", "max", "Berichtigung", "2026-01-05 10:00", [
        ("StateUpdate", "pending reminder", None, "2026-01-06 09:00", None),
        ("field", None, None, "2026-03-01 10:00", ("DSGVOExtension", "1"))]),
    (24, "Datenschutz", "kanzlei", "Widerspruch", "2026-11-20 09:00", []),
    # a duplicate, merged into 22
    (25, "Datenschutz", "anna", "Auskunft (2)", "2026-05-05 07:00", [
        ("Merged", "new", None, "2026-05-05 12:00", None),
        ("StateUpdate", "merged", None, "2026-05-05 12:00", None)]),
    (26, "Datenschutz", "max", "?", "2026-06-01 08:00", []),
    (27, "Datenschutz", "kanzlei", "Auskunft", "2026-11-25 09:00", []),
    (30, "Datenpannen", AGENT, "Laptop gestohlen", "2026-05-04 07:00", [
        ("StateUpdate", "closed successful", None, "2026-06-01 10:00", None)]),
    (31, "Datenpannen", AGENT, "Backup-Server", "2026-10-01 07:00", [
        ("StateUpdate", "open", None, "2026-10-01 08:00", None),
        ("field", None, None, "2026-10-02 10:00", ("IncidentArt34Exemption", "a"))]),
]
# Field values now: ticket -> {field: value} (dates as dates, times in UTC, checkboxes 1/0).
VALUES = {
    20: {"DSGVORight": "art15"},
    21: {"DSGVORight": "erasure", "DSGVOOutcome": "completed", "DSGVOIdentityVerified": dt.date(2026, 4, 2)},
    22: {"DSGVORight": "Access"},
    23: {"DSGVORight": "rectification", "DSGVOReceived": dt.date(2026, 1, 2),
         "DSGVOExtensionReason": "Umfang der Daten", "DSGVOExtension": 1},
    24: {"DSGVORight": "art21", "DSGVOSubjectEmail": " ANNA.Becker@example.org"},
    25: {"DSGVORight": "access"},
    26: {"DSGVORight": "art99"},
    27: {"DSGVORight": "access", "DSGVOSubjectEmail": "niemand@example.org"},
    1: {"DSGVOLoeschsperre": 0},
    3: {"DSGVOLoeschsperre": 1},
    30: {"IncidentAwareAt": "2026-05-04 08:00", "IncidentNotifiedAt": "2026-05-07 16:00",
         "IncidentContainedAt": "2026-05-05 12:00", "IncidentType": "confidentiality", "IncidentRisk": "risk",
         "IncidentPersonalData": 1, "IncidentSubjectsAffected": "40", "IncidentDelayReason": "Forensik abgewartet"},
    31: {"IncidentDetectedAt": "2026-10-01 06:00", "IncidentAwareAt": "2026-10-01 10:00",
         "IncidentNotifiedAt": "2026-10-02 09:00", "IncidentType": "availability", "IncidentRisk": "high",
         "IncidentArt34Exemption": "a", "IncidentPersonalData": 1, "IncidentSubjectsAffected": "1200"},
}
# Messages: id, ticket, channel, sender type, UTC time (web form = the customer interface's Internal message)
ARTICLES = [(1, 20, "Email", "customer", "2026-03-02 09:00"), (2, 21, "Internal", "customer", "2026-04-01 07:00"),
            (3, 21, "Email", "agent", "2026-04-20 12:00"), (4, 22, "Phone", "agent", "2026-05-04 08:00"),
            (5, 23, "Internal", "agent", "2026-01-05 10:00"), (6, 24, "Email", "customer", "2026-11-20 09:00"),
            (7, 25, "Email", "customer", "2026-05-05 07:00"), (8, 27, "Email", "customer", "2026-11-25 09:00")]


def _local(utc_text: str) -> str:
    """A UTC time as Znuny writes it with OTRSTimeZone = Europe/Berlin."""
    at = dt.datetime.fromisoformat(utc_text).replace(tzinfo=dt.UTC).astimezone(BERLIN)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _q(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _facts() -> str:
    """The register's facts as Znuny's tables hold them."""
    customers = ", ".join(f"('{login}', '{login}@example.org', 'kunde', '{login.title()}', 'X', 1, "
                          "'2025-01-01', 1, '2025-01-01', 1)" for login in LOGINS)
    customers = customers.replace("'anna@example.org'", "'anna.becker@example.org'")
    fields = ", ".join(f"({FIELD_ID[n]}, '{n}', '{n}', {FIELD_ID[n]}, '{k}', 'Ticket', '---', 1, '2026-01-01', 1, "
                       "'2026-01-01', 1)" for n, k in FIELDS)
    tickets, history = [], []
    for tid, queue, login, title, created, moves in TICKETS:
        state, now_queue, changed = "new", queue, created
        rows = [("NewTicket", "new", queue, created, None)] + moves
        for kind, to_state, to_queue, at, detail in rows:
            state, now_queue, changed = to_state or state, to_queue or now_queue, at
            name = f"%%FieldName%%{detail[0]}%%Value%%{detail[1]}%%OldValue%%" if detail else kind
            kind = "TicketDynamicFieldUpdate" if kind == "field" else kind
            history.append(f"({_q(name)}, (SELECT id FROM ticket_history_type WHERE name = '{kind}'), {tid}, 1, "
                           f"{QUEUES[now_queue]}, 1, 3, {STATES[state]}, '{_local(at)}', 2, '{_local(at)}', 2)")
        tickets.append(f"({tid}, '{10000 + tid}', {_q(title)}, {QUEUES[now_queue]}, 1, 1, 1, 3, {STATES[state]}, "
                       f"'kunde', {_q(login)}, 0, 0, 0, 0, 0, 0, 0, '{_local(created)}', 1, '{_local(changed)}', 1)")
    values = []
    for tid, given in VALUES.items():
        for field, value in given.items():
            kind = dict(FIELDS)[field]
            text, date, number = "NULL", "NULL", "NULL"
            if kind == "Checkbox":
                number = str(value)
            elif kind == "Date":
                date = f"'{value} 00:00:00'"
            elif kind == "DateTime":
                date = f"'{_local(value)}'"
            else:
                text = _q(value)
            values.append(f"({FIELD_ID[field]}, {tid}, {text}, {date}, {number})")
    articles = ", ".join(
        f"({a}, {t}, (SELECT id FROM article_sender_type WHERE name = '{sender}'), "
        f"(SELECT id FROM communication_channel WHERE name = '{channel}'), 1, '{_local(at)}', 1, '{_local(at)}', 1)"
        for a, t, channel, sender, at in ARTICLES)
    return f"""
INSERT INTO users (login, pw, first_name, last_name, valid_id, create_by, create_time, change_by, change_time)
 VALUES ('tom', 'x', 'Tom', 'Techniker', 1, 1, '2024-01-01', 1, '2024-01-01');
INSERT INTO customer_user (login, email, customer_id, first_name, last_name, valid_id, create_time, create_by,
                           change_time, change_by) VALUES {customers};
INSERT INTO queue (id, name, group_id, system_address_id, salutation_id, signature_id, follow_up_id, follow_up_lock,
                   valid_id, create_time, create_by, change_time, change_by) VALUES
 {', '.join(f"({i}, '{n}', 1, 1, 1, 1, 1, 0, 1, '2024-01-01', 1, '2024-01-01', 1)" for n, i in QUEUES.items())};
INSERT INTO dynamic_field (id, name, label, field_order, field_type, object_type, config, valid_id, create_time,
                           create_by, change_time, change_by) VALUES {fields};
{TICKETS_INTO}{', '.join(tickets)};
{HISTORY_INTO}{', '.join(history)};
INSERT INTO dynamic_field_value (field_id, object_id, value_text, value_date, value_int) VALUES {', '.join(values)};
{ARTICLES_INTO}{articles};
INSERT INTO link_object (id, name) VALUES (1, 'Ticket');
-- ticket 1 and ticket 3 concern breach 30 (linked in both directions); a temporary link is not one yet
INSERT INTO link_relation (source_object_id, source_key, target_object_id, target_key, type_id, state_id, create_time,
                           create_by) VALUES (1, '30', 1, '1', 1, 1, '2026-05-04 10:00', 2),
 (1, '3', 1, '30', 1, 1, '2026-05-04 10:00', 2), (1, '30', 1, '22', 1, 2, '2026-05-04 10:00', 2);
"""


def _setup_znuny(admin: str, name: str, extra: str = "") -> str:
    """A Znuny database set up as docs/CONNECTORS.md says, the register's facts in it; its read-only DSN."""
    role = f"{name}_reader"
    run(admin, f"DROP DATABASE IF EXISTS {name}")
    run(admin, f"DROP ROLE IF EXISTS {role}")
    run(admin, f"CREATE DATABASE {name}")
    db = database(admin, name)
    run(db, (FIXTURES / "znuny.sql").read_text(encoding="utf-8") + _facts())
    for script in ("znuny-readonly.sql", "znuny-register-readonly.sql"):
        text = (paths.PROJECT_ROOT / "deploy" / script).read_text(encoding="utf-8")
        run(db, text.replace("DATABASE znuny", f"DATABASE {name}").replace("dsgvo_cockpit_znuny", role))
    if extra:
        run(db, extra.replace("dsgvo_cockpit_znuny", role))
    return as_role(db, role)


def _znuny_sources(folder: Path) -> Path:
    """Contacts, tickets and the register from Znuny (OTRSTimeZone Europe/Berlin); billing as files, naming
    Anna by her Znuny login."""
    billing = {t: [{**r, "contact_id": "anna"} for r in rows] for t, rows in BILLING.items()}
    return helpdesk_sources(folder, billing, 'kind = "znuny"\ndsn_env = "ZNUNY_DSN"\ntimezone = "Europe/Berlin"')


@pytest.fixture(scope="module")
def built(pg_dsn, tmp_path_factory, request):
    """The same facts from Zammad (UTC) and from Znuny (Europe/Berlin)."""
    mp = pytest.MonkeyPatch()
    request.addfinalizer(mp.undo)
    mp.setenv("ZAMMAD_DSN", setup_zammad(pg_dsn, "zammad_same_register"))
    mp.setenv("ZNUNY_DSN", _setup_znuny(pg_dsn, "znuny_register"))
    root = tmp_path_factory.mktemp("znuny-register")
    zammad = build_snapshot(zammad_sources(root / "z", BILLING), data_dir=root / "z-data")
    znuny = build_snapshot(_znuny_sources(root / "n"), data_dir=root / "n-data")
    return zammad, znuny


def _same(value):
    """A Znuny login as the same person's Zammad id; the made-up ids' system prefix dropped."""
    if isinstance(value, str):
        return LOGINS.get(value, value.removeprefix("znuny-").removeprefix("zammad-"))
    return value


def _table(path: Path, table: str, drop: tuple[str, ...] = ()) -> list[tuple]:
    con = open_snapshot(path)
    try:
        frame = con.sql(f"SELECT * EXCLUDE ({', '.join(drop)}) FROM {table}" if drop else f"SELECT * FROM {table}").pl()
        return sorted((tuple(_same(v) for v in row) for row in frame.rows()), key=repr)
    finally:
        con.close()


def test_the_register_from_znuny_is_the_register_from_zammad(built):
    """Every register table holds the same rows, derived columns included: the request moved into the queue
    19 days after it arrived runs from its arrival, pending reminder then pending auto is one pause, the
    reopened request has no closing time, the extension checked after the deadline is invalid (R1.6), the
    lawyer's request is Anna's, the merged duplicate is closed at its merge, the breach notified after 80
    hours keeps its reason, the hold checkbox set then cleared is a released hold set by tom."""
    z, n = built
    drops = {"request_pauses": ("pause_id",), "incident_records": ("link_id",), "holds": ("hold_id", "reason")}
    for table in ("requests", "request_pauses", "incidents", "incident_records", "holds"):
        assert _table(z.path, table, drops.get(table, ())) == _table(n.path, table, drops.get(table, ())), table
    assert _table(n.path, "request_pauses", ("pause_id",))  # not empty on both sides
    holds = _rows(n.path, "SELECT record_id, set_by, reason, set_at, released_at FROM holds ORDER BY record_id")
    assert holds == [("1", "tom", "Znuny-Feld DSGVOLoeschsperre", dt.datetime(2026, 4, 1, 8, tzinfo=dt.UTC),
                      dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)),
                     ("3", "tom", "Znuny-Feld DSGVOLoeschsperre", dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), None)]
    events = "SELECT request_id, occurred_at, event FROM request_events"
    assert sorted(_rows(z.path, events)) == sorted(_rows(n.path, events))
    assert _rows(n.path, "SELECT record_key, reason FROM rejected_rows WHERE table_name = 'requests'") == [
        ("26", "right: unknown value (allowed: access/rectification/erasure/restriction/portability/objection)")]


def test_same_figures_on_every_page(built):
    """The requests, breach, hold and retention figures of both snapshots, at a date and a moment."""
    z, n = built
    cons = [open_snapshot(s.path) for s in (z, n)]
    try:
        for name, params in FIGURE_CHECKS:
            left, right = ([tuple(_same(v) for v in row) for row in data.run(c, name, **params).rows()] for c in cons)
            assert left == right, name
            assert left, name
        holds = [[(r[1:4], r[5:]) for r in data.run(c, "subject_holds", contact_id=key).rows()]  # not id, reason
                 for c, key in zip(cons, ("3", "anna"), strict=True)]
        assert holds[0] == holds[1] and len(holds[0]) == 2
    finally:
        for c in cons:
            c.close()


def test_only_the_register_fields_history_leaves_znuny(built):
    """A field's history name carries its value: the subject's e-mail in DSGVOSubjectEmail's history is not
    read (only the hold, extension and Art. 34 fields' history is), and no title of a request is kept."""
    _z, n = built
    con = open_snapshot(n.path)
    try:
        events = con.sql("SELECT * FROM request_events").fetchall()
        assert {e[3] for e in events} <= {"received", "identity_verified", "moved_in", "state_changed", "tag_added",
                                          "tag_removed", "message_in", "message_out"}
        assert ("23", "tag_added", "DSGVOExtension") in {(e[1], e[3], e[4]) for e in events}
        assert "Löschung" not in str(con.sql("SELECT * FROM requests").fetchall())
    finally:
        con.close()


def test_sources_check_reports_the_setup_and_names_what_is_missing(built, pg_dsn, tmp_path, monkeypatch, capsys):
    assert cli.main(["sources", "check", "--sources", str(built[1].path.parent.parent.parent / "n" / "files" /
                                                          "sources.toml")]) == 0
    out = capsys.readouterr().out
    assert "MISSING" not in out, out
    assert "ok       helpdesk (znuny): requests: queue Datenschutz" in out
    assert "ok       helpdesk (znuny): incidents: dynamic fields (11)" in out
    assert "ok       helpdesk (znuny): holds: dynamic fields (1)" in out
    dsn = _setup_znuny(pg_dsn, "znuny_register_check", """
        UPDATE dynamic_field SET field_type = 'Text' WHERE name = 'IncidentAwareAt';
        DELETE FROM dynamic_field WHERE name = 'DSGVOLoeschsperre';
        REVOKE SELECT (value_int) ON dynamic_field_value FROM dsgvo_cockpit_znuny;
        UPDATE queue SET name = 'DSGVO' WHERE name = 'Datenpannen';""")
    monkeypatch.setenv("ZNUNY_DSN", dsn)
    sources = _znuny_sources(tmp_path / "check")
    assert cli.main(["sources", "check", "--sources", str(sources)]) == 1
    out = capsys.readouterr().out
    for line in ("MISSING  helpdesk (znuny): incidents: dynamic field IncidentAwareAt is Text, should be DateTime",
                 "MISSING  helpdesk (znuny): incidents: queue Datenpannen not found",
                 "MISSING  helpdesk (znuny): holds: dynamic field DSGVOLoeschsperre (Checkbox) missing",
                 "MISSING  helpdesk (znuny): requests: table public.dynamic_field_value: no SELECT grant on column "
                 "value_int"):
        assert line in out, out
