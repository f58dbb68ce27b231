"""The Znuny connector on Znuny's published table layout (tests/fixtures/znuny.sql), in a real PostgreSQL,
read through the read-only role of deploy/znuny-readonly.sql.

One set of facts is written twice: into a Zammad database (UTC, as Zammad stores it) and into a Znuny
database whose OTRSTimeZone is Europe/Berlin (local times). Both snapshots must hold the same customers,
tickets, attachments and retention figures. The facts are the awkward ones: a ticket closed, reopened and
closed again; a close at 23:30 local time on the last day of a month; a merged ticket; an archived
ticket; a customer without a name; an attachment whose size is not a number; the HTML body Znuny keeps
as an inline attachment (never read).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard import data, paths
from dashboard.build import build_snapshot
from tests.helpdesks import ARTICLES_INTO, HISTORY_INTO, TICKETS_INTO
from tests.helpers import snapshot_rows as _rows
from tests.helpers import write_store
from tests.pg import as_role, database, run

pytestmark = pytest.mark.postgres
FIXTURES = Path(__file__).parent / "fixtures"
UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")

# Customers: (Zammad id, Znuny login, first, last, e-mail, phone, street, zip, city, created UTC)
CUSTOMERS = [
    (3, "anna", "Anna", "Becker", "anna.becker@example.org", "+49 6131 1", "Hauptstr. 1", "55546", "Neu-Bamberg",
     "2025-01-10 09:00"),
    (4, "nur.mail@example.org", "", "", "nur.mail@example.org", "", "", "", "", "2025-02-01 07:30"),
    (5, "max", "Max", "Muster", "max.muster@example.org", "", "", "", "", "2025-03-01 12:00"),
]
# Tickets: (id, customer Zammad id, queue, state, created, [(state, at)...] history of state changes, archived)
TICKETS = [
    (1, 3, "Netzwerk", "closed", "2026-01-05 08:00",
     [("new", "2026-01-05 08:00"), ("closed", "2026-01-10 10:00"), ("open", "2026-02-01 09:00"),
      ("closed", "2026-03-20 23:30")], False),
    (2, 5, "Users", "merged", "2026-01-20 08:00", [("new", "2026-01-20 08:00"), ("merged", "2026-02-01 09:00")], False),
    (3, 4, "Users", "open", "2026-06-01 08:00", [("new", "2026-06-01 08:00"), ("open", "2026-06-01 09:00")], False),
    # closed at 23:30 local time on 31 January (22:30 UTC): a 31 January close
    (4, 3, "Netzwerk", "closed", "2026-01-20 08:00",
     [("new", "2026-01-20 08:00"), ("closed", "2026-01-31 22:30")], False),
    (5, 5, "Users", "closed", "2025-06-01 08:00", [("new", "2025-06-01 08:00"), ("closed", "2025-06-30 12:00")], True),
]
ARTICLES = [(1, 1), (2, 1), (3, 3), (4, 4), (5, 5)]  # (article id, ticket id)
# Attachments: (id, article, file name, size as text, content type)
ATTACHMENTS = [(1, 1, "router.log", "512", "text/plain"), (2, 3, "Angebot.PDF", "10240", "application/pdf"),
               (3, 4, "screen.png", "zwei MB", "image/png")]
ZAMMAD_STATE = {"new": 1, "open": 2, "closed": 4, "merged": 5}
ZNUNY_STATE = {"new": 1, "open": 4, "closed": 2, "merged": 9}  # the seeded states of each type
HISTORY_TYPE = {"new": 1, "open": 27, "closed": 27, "merged": 27}  # NewTicket, StateUpdate


def _local(utc_text: str) -> str:
    """A UTC time as Znuny writes it with OTRSTimeZone = Europe/Berlin."""
    at = dt.datetime.fromisoformat(utc_text).replace(tzinfo=UTC).astimezone(BERLIN)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _zammad_rows() -> str:
    users = ", ".join(f"({i}, '{login}', '{f}', '{la}', '{e}', '{p}', '{s}', '{z}', '{c}', '{at}', '{at}')"
                      for i, login, f, la, e, p, s, z, c, at in CUSTOMERS)
    tickets = []
    for tid, customer, queue, state, created, moves, _archived in TICKETS:
        closes = [at for st, at in moves if st == "closed"]
        last = moves[-1][1]
        group = 1 if queue == "Users" else 2
        tickets.append(f"({tid}, {group}, {ZAMMAD_STATE[state]}, '{10000 + tid}', 't', {customer}, "
                       f"{repr(closes[0]) if closes else 'NULL'}, {repr(closes[-1]) if closes else 'NULL'}, "
                       f"{sum(1 for _, t in ARTICLES if t == tid)}, '{created}', '{last}')")
    stores = ", ".join(f"({i}, 1, {i}, {article}, '{size}', '{name}')" for i, article, name, size, _ in ATTACHMENTS)
    return f"""
INSERT INTO roles (id, name) VALUES (1, 'Admin'), (2, 'Agent'), (3, 'Customer');
INSERT INTO users (id, login, firstname, lastname, email, phone, street, zip, city, created_at, updated_at) VALUES
 (2, 'agent', 'Tom', 'Techniker', 'tom@aelvirionek.example', '', '', '', '', '2024-01-01', '2024-01-01'), {users};
INSERT INTO roles_users VALUES (2, 2), (3, 3), (4, 3), (5, 3);
INSERT INTO groups (id, name) VALUES (1, 'Users'), (2, 'Netzwerk');
INSERT INTO ticket_state_types (id, name) VALUES (1, 'new'), (2, 'open'), (5, 'closed'), (6, 'merged');
INSERT INTO ticket_states (id, state_type_id, name) VALUES (1, 1, 'new'), (2, 2, 'open'), (4, 5, 'closed'),
 (5, 6, 'merged');
INSERT INTO tickets (id, group_id, state_id, number, title, customer_id, close_at, last_close_at, article_count,
                     created_at, updated_at) VALUES {', '.join(tickets)};
INSERT INTO ticket_articles (id, ticket_id, body) VALUES {', '.join(f"({a}, {t}, 'body')" for a, t in ARTICLES)};
INSERT INTO store_objects (id, name) VALUES (1, 'Ticket::Article');
INSERT INTO stores (id, store_object_id, store_file_id, o_id, size, filename) VALUES {stores};
"""


def _znuny_rows() -> str:
    customers = ", ".join(f"('{login}', '{e}', 'kunde', '{f}', '{la}', '{p}', '{s}', '{z}', '{c}', 1, "
                          f"'{_local(at)}', 1, '{_local(at)}', 1)" for _i, login, f, la, e, p, s, z, c, at in CUSTOMERS)
    login = {c[0]: c[1] for c in CUSTOMERS}
    tickets, history = [], []
    for tid, customer, queue, state, created, moves, archived in TICKETS:
        tickets.append(f"({tid}, '{10000 + tid}', 't', {1 if queue == 'Users' else 2}, 1, 1, 1, 3, "
                       f"{ZNUNY_STATE[state]}, 'kunde', '{login[customer]}', 0, 0, 0, 0, 0, 0, {int(archived)}, "
                       f"'{_local(created)}', 1, '{_local(moves[-1][1])}', 1)")
        for st, at in moves:
            history.append(f"('{st}', {HISTORY_TYPE[st]}, {tid}, 1, {1 if queue == 'Users' else 2}, 1, 3, "
                           f"{ZNUNY_STATE[st]}, '{_local(at)}', 1, '{_local(at)}', 1)")
    articles = ", ".join(f"({a}, {t}, 3, 1, 1, '2026-01-01', 1, '2026-01-01', 1)" for a, t in ARTICLES)
    attachments = [f"({i}, {article}, '{name}', '{size}', '{ctype}', 'attachment', 'x', '2026-01-01', 1, "
                   "'2026-01-01', 1)" for i, article, name, size, ctype in ATTACHMENTS]
    # the HTML version of article 1's body, kept by Znuny as an inline attachment: a body, never read
    # (its content type is 'text/html; charset="utf-8"'; chr(59) as the test runner splits statements at ';')
    attachments.append("(9, 1, 'file-2', '4096', 'text/html' || chr(59) || ' charset=\"utf-8\"', 'inline', "
                       "'<p>geheim</p>', '2026-01-01', 1, '2026-01-01', 1)")
    return f"""
INSERT INTO customer_user (login, email, customer_id, first_name, last_name, phone, street, zip, city, valid_id,
                           create_time, create_by, change_time, change_by) VALUES {customers};
INSERT INTO queue (id, name, group_id, system_address_id, salutation_id, signature_id, follow_up_id, follow_up_lock,
                   valid_id, create_time, create_by, change_time, change_by) VALUES
 (1, 'Users', 1, 1, 1, 1, 1, 0, 1, '2024-01-01', 1, '2024-01-01', 1),
 (2, 'Netzwerk', 1, 1, 1, 1, 1, 0, 1, '2024-01-01', 1, '2024-01-01', 1);
{TICKETS_INTO}{', '.join(tickets)};
{HISTORY_INTO}{', '.join(history)};
{ARTICLES_INTO}{articles};
INSERT INTO article_data_mime_attachment (id, article_id, filename, content_size, content_type, disposition, content,
                                          create_time, create_by, change_time, change_by)
 VALUES {', '.join(attachments)};
"""


def _database(admin: str, name: str, schema: str, rows: str, readonly: str, role: str) -> str:
    run(admin, f"DROP DATABASE IF EXISTS {name}")
    run(admin, f"DROP ROLE IF EXISTS {role}")
    run(admin, f"CREATE DATABASE {name}")
    db = database(admin, name)
    run(db, (FIXTURES / schema).read_text(encoding="utf-8") + rows)
    grants = (paths.PROJECT_ROOT / "deploy" / readonly).read_text(encoding="utf-8")
    run(db, grants.replace(f"DATABASE {readonly.split('-')[0]}", f"DATABASE {name}")
        .replace(f"dsgvo_cockpit_{readonly.split('-')[0]}", role))
    return as_role(db, role)


def _sources(folder: Path, kind: str, timezone: str) -> Path:
    sources = write_store(folder / "files", {})
    text = sources.read_text(encoding="utf-8")
    for table in ("contacts", "tickets", "attachments"):
        text = text.replace(f'[tables.{table}]\nsource = "fixture"\nfile = "{table}.jsonl"\n', "")
    text += (f'\n[sources.helpdesk]\nkind = "{kind}"\ndsn_env = "HELPDESK_DSN"\ntimezone = "{timezone}"\n'
             '[sources.helpdesk.categories]\n"Netzwerk" = "network"\n'
             '[tables.contacts]\nsource = "helpdesk"\n[tables.tickets]\nsource = "helpdesk"\n'
             '[tables.attachments]\nsource = "helpdesk"\n')
    sources.write_text(text, encoding="utf-8")
    return sources


@pytest.fixture(scope="module")
def built(pg_dsn, tmp_path_factory):
    """The same facts from Zammad (UTC) and from Znuny (OTRSTimeZone Europe/Berlin)."""
    root = tmp_path_factory.mktemp("znuny")
    mp = pytest.MonkeyPatch()
    try:
        results = {}
        for kind, schema, rows, timezone in (("zammad", "zammad.sql", _zammad_rows(), "UTC"),
                                             ("znuny", "znuny.sql", _znuny_rows(), "Europe/Berlin")):
            dsn = _database(pg_dsn, f"{kind}_facts", schema, rows, f"{kind}-readonly.sql", f"{kind}_facts_reader")
            mp.setenv("HELPDESK_DSN", dsn)
            results[kind] = build_snapshot(_sources(root / kind, kind, timezone), data_dir=root / f"{kind}-data")
        results["znuny_dsn"] = dsn
        yield results
    finally:
        mp.undo()


def test_znuny_gives_the_snapshot_zammad_gives(built):
    """Customers, tickets (close times, statuses, categories, messages), attachments, rejected rows and the
    retention figures are the same; only a customer's key differs (Zammad's id, Znuny's login)."""
    z, n = built["zammad"].path, built["znuny"].path
    contacts = "SELECT * EXCLUDE (contact_id) FROM contacts ORDER BY email"
    assert _rows(z, contacts) == _rows(n, contacts) and len(_rows(n, contacts)) == 3
    tickets = ("SELECT t.* EXCLUDE (contact_id), c.email FROM tickets t JOIN contacts c USING (contact_id) "
               "ORDER BY ticket_id")
    assert _rows(z, tickets) == _rows(n, tickets) and len(_rows(n, tickets)) == 5
    for sql in ("SELECT * FROM attachments ORDER BY attachment_id",
                "SELECT table_name, record_key, reason FROM rejected_rows ORDER BY ALL",
                "SELECT record_id, anchor_date, retained_until, category FROM retention_records ORDER BY ALL"):
        assert _rows(z, sql) == _rows(n, sql), sql


def test_the_clock_starts_at_the_last_close_in_the_installations_time_zone(built):
    n = built["znuny"].path
    closed = dict(_rows(n, "SELECT ticket_id, closed_at FROM tickets"))
    assert closed["1"] == dt.datetime(2026, 3, 20, 23, 30, tzinfo=UTC)  # reopened and closed again: the last close
    assert closed["2"] == dt.datetime(2026, 2, 1, 9, tzinfo=UTC)  # merged: at the merge
    assert closed["3"] is None  # open
    assert closed["4"] == dt.datetime(2026, 1, 31, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    anchors = dict(_rows(n, "SELECT record_id, anchor_date FROM retention_records WHERE record_type = 'ticket'"))
    assert anchors["4"] == dt.date(2026, 1, 31) and anchors["1"] == dt.date(2026, 3, 21)
    assert "5" in closed  # archived is not deleted


def test_bad_input_is_set_aside_and_bodies_are_never_read(built):
    n = built["znuny"].path
    assert _rows(n, "SELECT record_key, reason FROM rejected_rows WHERE table_name = 'attachments'") == [
        ("3", "size_bytes: not a valid BIGINT")]
    assert _rows(n, "SELECT attachment_id FROM attachments ORDER BY 1") == [("1",), ("2",)]  # not the HTML body
    con = data.connect(n)
    try:
        names = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        for table in names:
            text = str(con.sql(f"SELECT * FROM {table}").fetchall())
            assert "geheim" not in text and "file-2" not in text, table
    finally:
        con.close()


def test_an_unchanged_znuny_is_copied_and_a_change_is_read(built, pg_dsn, monkeypatch, tmp_path):
    """Znuny sets change_time on every change: an unchanged refresh copies tickets and attachments."""
    monkeypatch.setenv("HELPDESK_DSN", built["znuny_dsn"])
    sources = built["znuny"].path.parent.parent.parent / "znuny" / "files" / "sources.toml"
    again = build_snapshot(sources, data_dir=built["znuny"].path.parent.parent)
    assert {"tickets", "attachments"} <= set(again.reused)
    run(database(pg_dsn, "znuny_facts"), "UPDATE ticket SET ticket_state_id = 4, change_time = '2026-12-01 10:00:00' "
                                         "WHERE id = 4; INSERT INTO ticket_history (name, history_type_id, ticket_id, "
                                         "type_id, queue_id, owner_id, priority_id, state_id, create_time, create_by, "
                                         "change_time, change_by) VALUES ('open', 27, 4, 1, 2, 1, 3, 4, "
                                         "'2026-12-01 10:00:00', 1, '2026-12-01 10:00:00', 1)")
    reread = build_snapshot(sources, data_dir=built["znuny"].path.parent.parent)
    assert "tickets" not in reread.reused
    assert _rows(reread.path, "SELECT status, closed_at FROM tickets WHERE ticket_id = '4'") == [("open", None)]


def test_sources_check_reports_znuny_complete_and_names_a_missing_grant(built, pg_dsn, monkeypatch, capsys):
    from dashboard import cli

    monkeypatch.setenv("HELPDESK_DSN", built["znuny_dsn"])
    sources = built["znuny"].path.parent.parent.parent / "znuny" / "files" / "sources.toml"
    assert cli.main(["sources", "check", "--sources", str(sources)]) == 0
    assert "ok       helpdesk (znuny): tickets: tables and grants (7 tables)" in capsys.readouterr().out
    run(database(pg_dsn, "znuny_facts"), "REVOKE SELECT (content_size) ON article_data_mime_attachment "
                                         "FROM znuny_facts_reader")
    try:
        assert cli.main(["sources", "check", "--sources", str(sources)]) == 1
        assert ("MISSING  helpdesk (znuny): attachments: table public.article_data_mime_attachment: no SELECT grant "
                "on column content_size") in capsys.readouterr().out
    finally:
        run(database(pg_dsn, "znuny_facts"), "GRANT SELECT (content_size) ON article_data_mime_attachment "
                                             "TO znuny_facts_reader")
