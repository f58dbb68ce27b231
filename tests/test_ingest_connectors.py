"""The Zammad and listmonk connectors on the systems' published table layouts, in a real PostgreSQL,
read through the read-only roles of deploy/*-readonly.sql (the grants docs/CONNECTORS.md gives).

The rows are the awkward real ones: a reopened and re-closed ticket, a merged ticket, an e-mail-only
customer, a raw .eml copy, an agent (not a data subject), a subscriber who confirmed and later
unsubscribed, a single-opt-in list, and the same person in both systems with e-mail in another case.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dashboard import data, paths
from dashboard.build import build_snapshot
from dashboard.ingest.config import SourceError
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot
from tests.helpers import snapshot_rows as _rows
from tests.helpers import write_store
from tests.pg import as_role as _as_role
from tests.pg import database as _database
from tests.pg import run as _run

pytestmark = pytest.mark.postgres
FIXTURES = Path(__file__).parent / "fixtures"


ZAMMAD_ROWS = """
INSERT INTO roles (id, name) VALUES (1, 'Admin'), (2, 'Agent'), (3, 'Customer');
INSERT INTO users (id, login, firstname, lastname, email, phone, street, zip, city, created_at, updated_at) VALUES
 (1, '-', '', '', '', '', '', '', '', '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
 (2, 'agent', 'Tom', 'Techniker', 'tom@aelvirionek.example', '', '', '', '',
  '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
 (3, 'anna', 'Anna', 'Becker', 'anna.becker@example.org', '+49 6131 1', 'Hauptstr. 1', '55546', 'Neu-Bamberg',
  '2025-01-10 09:00:00', '2025-01-10 09:00:00'),
 (4, 'nur.mail@example.org', '', '', 'nur.mail@example.org', '', '', '', '',
  '2025-02-01 07:30:00', '2025-02-01 07:30:00'),
 (5, 'max', 'Max', 'Muster', 'Max.Muster@Example.org', '', '', '', '', '2025-03-01 12:00:00', '2025-03-01 12:00:00');
INSERT INTO roles_users VALUES (2, 2), (3, 3), (4, 3), (5, 3);
INSERT INTO groups (id, name) VALUES (1, 'Users'), (2, 'Netzwerk');
INSERT INTO ticket_state_types (id, name) VALUES (1, 'new'), (2, 'open'), (3, 'pending reminder'),
 (4, 'pending action'), (5, 'closed'), (6, 'merged'), (7, 'removed');
INSERT INTO ticket_states (id, state_type_id, name) VALUES (1, 1, 'new'), (2, 2, 'open'),
 (3, 3, 'pending reminder'), (4, 5, 'closed'), (5, 6, 'merged');
-- 1: closed on 10 Jan, reopened, closed again on 20 Mar (23:30 UTC = 21 Mar in Berlin): the clock
--    starts at last_close_at. 2: merged into 1 on 1 Feb. 3: open, from the e-mail-only customer.
INSERT INTO tickets (id, group_id, state_id, number, title, customer_id, close_at, last_close_at, article_count,
                     created_at, updated_at) VALUES
 (1, 2, 4, '10001', 'VPN', 3, '2026-01-10 10:00:00', '2026-03-20 23:30:00', 5,
  '2026-01-05 08:00:00', '2026-03-20 23:30:00'),
 (2, 1, 5, '10002', 'VPN (2)', 5, NULL, NULL, 1, '2026-01-20 08:00:00', '2026-02-01 09:00:00'),
 (3, 1, 2, '10003', 'Drucker', 4, NULL, NULL, 2, '2026-06-01 08:00:00', '2026-06-01 08:00:00');
INSERT INTO ticket_articles (id, ticket_id, body) VALUES (1, 1, 'secret body'), (2, 1, 'x'), (3, 3, 'y');
INSERT INTO store_objects (id, name) VALUES (1, 'Ticket::Article'), (2, 'Ticket::Article::Mail'), (3, 'User');
INSERT INTO stores (id, store_object_id, store_file_id, o_id, size, filename) VALUES
 (1, 2, 1, 1, '2048', 'message.eml'), (2, 1, 2, 1, '512', 'router.log'), (3, 1, 3, 3, '10240', 'Angebot.PDF'),
 (4, 3, 4, 3, '900', 'avatar.png');
"""

LISTMONK_ROWS = """
INSERT INTO lists (id, uuid, name, type, optin) VALUES
 (1, gen_random_uuid(), 'Newsletter', 'public', 'double'),
 (2, gen_random_uuid(), 'Produktinfos', 'public', 'single'),
 (3, gen_random_uuid(), 'Intern', 'private', 'single');
INSERT INTO subscribers (id, uuid, email, name, created_at) VALUES
 (1, gen_random_uuid(), ' max.muster@example.org', 'Max Muster', '2026-05-01 10:00:00+00'),
 (2, gen_random_uuid(), 'erika@example.org', 'Erika Mustermann', '2026-06-01 10:00:00+00');
INSERT INTO subscriber_lists (subscriber_id, list_id, status, meta, created_at, updated_at) VALUES
 (1, 1, 'confirmed', '{"optin_ip": "203.0.113.7"}', '2026-05-01 10:00:00+00', '2026-05-01 10:05:00+00'),
 (2, 2, 'unconfirmed', '{}', '2026-06-01 10:00:00+00', '2026-06-01 10:00:00+00'),
 (2, 3, 'confirmed', '{}', '2026-06-01 10:00:00+00', '2026-06-01 10:00:00+00');
"""


@pytest.fixture(scope="module")
def systems(pg_dsn):
    """A Zammad and a listmonk database with their read-only roles; returns (zammad DSN, listmonk
    DSN, admin DSN)."""
    for name, schema, rows in (("zammad", "zammad.sql", ZAMMAD_ROWS), ("listmonk", "listmonk.sql", LISTMONK_ROWS)):
        _run(pg_dsn, f"DROP DATABASE IF EXISTS {name}")
        _run(pg_dsn, f"DROP ROLE IF EXISTS dsgvo_cockpit_{name}")
        _run(pg_dsn, f"CREATE DATABASE {name}")
        db = _database(pg_dsn, name)
        _run(db, (FIXTURES / schema).read_text(encoding="utf-8") + rows)
        _run(db, (paths.PROJECT_ROOT / "deploy" / f"{name}-readonly.sql").read_text(encoding="utf-8"))
    return (_as_role(_database(pg_dsn, "zammad"), "dsgvo_cockpit_zammad"),
            _as_role(_database(pg_dsn, "listmonk"), "dsgvo_cockpit_listmonk"), pg_dsn)


def _sources(folder: Path) -> Path:
    """The sources.toml of docs/CONNECTORS.md, with the privacy register and billing as files."""
    register = write_store(folder / "files", {})
    text = register.read_text(encoding="utf-8")
    for table in ("contacts", "tickets", "attachments", "consent_events"):
        text = text.replace(f'[tables.{table}]\nsource = "fixture"\nfile = "{table}.jsonl"\n', "")
    text += """
[sources.helpdesk]
kind = "zammad"
dsn_env = "ZAMMAD_DSN"
[sources.helpdesk.categories]
"Netzwerk" = "network"

[sources.newsletter]
kind = "listmonk"
dsn_env = "LISTMONK_DSN"
settings_table = "dsgvo_cockpit_settings"
[sources.newsletter.purposes]
"Newsletter" = "newsletter"
"Produktinfos" = "newsletter"

[tables.contacts]
source = ["helpdesk", "newsletter"]
[tables.tickets]
source = "helpdesk"
[tables.attachments]
source = "helpdesk"
[tables.consent_events]
source = "newsletter"
"""
    path = folder / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def env(systems, tmp_path, monkeypatch):
    zammad, listmonk, admin = systems
    monkeypatch.setenv("ZAMMAD_DSN", zammad)
    monkeypatch.setenv("LISTMONK_DSN", listmonk)
    return _sources(tmp_path / "src"), tmp_path / "data", admin


def test_real_shapes_people_and_the_consent_ledger(env):
    sources, data_dir, admin = env
    first = build_snapshot(sources, data_dir=data_dir)
    # Customers only (not the agent, not the system user), the e-mail-only one included; the
    # subscriber Max is the customer Max (e-mail in another case): one person, the helpdesk's id.
    assert _rows(first.path, "SELECT contact_id, first_name, last_name, email FROM contacts ORDER BY contact_id") == [
        ("3", "Anna", "Becker", "anna.becker@example.org"),
        ("4", None, None, "nur.mail@example.org"),
        ("5", "Max", "Muster", "Max.Muster@Example.org"),
        ("newsletter:2", "Erika", "Mustermann", "erika@example.org"),
    ]
    assert _rows(first.path, "SELECT source, source_contact_id FROM contact_identities WHERE contact_id = '5' "
                             "ORDER BY rank") == [("helpdesk", "5"), ("newsletter", "1")]
    assert first.tables["contacts"] == (5, 5, 0)
    # Tickets: the re-closed ticket's clock starts at last_close_at (21 Mar in Berlin, not 10 Jan);
    # the merged one is closed at the merge; the group maps to the category, else "other".
    tickets = {r[0]: r[1:] for r in _rows(first.path, "SELECT t.ticket_id, t.contact_id, t.status, t.category, "
                                                      "r.anchor_date, r.retained_until, t.message_count FROM tickets t "
                                                      "LEFT JOIN retention_records r ON r.record_type = 'ticket' "
                                                      "AND r.record_id = t.ticket_id")}
    assert tickets["1"] == ("3", "closed", "network", dt.date(2026, 3, 21), dt.date(2026, 9, 21), 5)
    assert tickets["2"] == ("5", "closed", "other", dt.date(2026, 2, 1), dt.date(2026, 8, 1), 1)
    assert tickets["3"][:3] == ("4", "open", "other")
    attachments = _rows(first.path, "SELECT attachment_id, ticket_id, kind, size_bytes FROM attachments ORDER BY 1")
    assert attachments == [("1", "1", "mail_copy", 2048), ("2", "1", "log_file", 512), ("3", "3", "document", 10240)]
    # Consents from the ledger's first read: inferred, the DOI confirmation with its IP; the
    # unmapped list is ignored; the double-opt-in list without IP recording is a finding.
    consents = ("SELECT contact_id, action, occurred_at, inferred, optin_ip FROM consent_events "
                "ORDER BY contact_id, occurred_at, action")
    assert _rows(first.path, consents) == [
        ("5", "requested", dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC), True, None),
        ("5", "confirmed", dt.datetime(2026, 5, 1, 10, 5, tzinfo=dt.UTC), True, "203.0.113.7"),
        ("newsletter:2", "granted", dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC), True, None),
    ]
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    state = ("SELECT contact_id, state, confirmed_at, consent_findings(purpose, state, notice_version, requested_at, "
             f"confirmed_at, DATE '{today}', '2025-01', 30, inferred := proof_inferred) "
             f"FROM consent_on(DATE '{today}') ORDER BY contact_id")
    assert _rows(first.path, state) == [
        ("5", "active", dt.datetime(2026, 5, 1, 10, 5, tzinfo=dt.UTC), ["inferred_proof", "no_notice_version"]),
        ("newsletter:2", "active", None, ["inferred_proof", "no_notice_version", "no_confirmation"]),
    ]
    # ... and a helpdesk without a deletion rule of its own is one too (the radar is the only safeguard).
    assert _rows(first.path, "SELECT source, finding, subject FROM source_findings ORDER BY ALL") == [
        ("helpdesk", "deletion_rule_none", ""), ("newsletter", "doi_without_optin_ip", "Newsletter")]
    # The subject's footprint covers both systems.
    con = open_snapshot(first.path)
    assert data.run(con, "subject_footprint", contact_id="5").select("tickets", "consents").row(0) == (1, 1)
    assert data.run(con, "subject_identities", contact_id="5").rows() == [("helpdesk", "5"), ("newsletter", "1")]
    con.close()

    # Max unsubscribes (listmonk overwrites updated_at); a new subscriber confirms after the first read.
    db = _database(admin, "listmonk")
    _run(db, "UPDATE subscriber_lists SET status = 'unsubscribed', updated_at = '2026-07-01 08:00:00+00' "
             "WHERE subscriber_id = 1 AND list_id = 1;"
             "INSERT INTO subscribers (id, uuid, email, name, created_at) VALUES "
             "(3, gen_random_uuid(), 'neu@example.org', 'Neu', now());"
             "INSERT INTO subscriber_lists (subscriber_id, list_id, status, created_at, updated_at) VALUES "
             "(3, 1, 'confirmed', now(), now() + interval '1 minute')")
    second = build_snapshot(sources, data_dir=data_dir)
    history = _rows(second.path, consents)
    assert [(r[0], r[1], r[3]) for r in history if r[0] == "5"] == [
        ("5", "requested", True), ("5", "confirmed", True), ("5", "withdrawn", False)]
    assert history[1][4] == "203.0.113.7"  # the proof of the earlier opt-in is kept
    assert [(r[1], r[3]) for r in history if r[0] == "newsletter:3"] == [("requested", False), ("confirmed", False)]
    after = {r[0]: r[1:] for r in _rows(second.path, state)}
    assert after["5"][0] == "withdrawn"
    assert after["newsletter:3"][0] == "active" and after["newsletter:3"][2] == ["no_notice_version"]
    # R3.5 over all systems: Max withdrew and his merged ticket is past retention, so his master data
    # may go, in both systems that hold it.
    con = open_snapshot(second.path)
    deletable = data.run(con, "deletable_subjects", as_of=dt.date.fromisoformat(today))
    con.close()
    assert deletable.filter(deletable["contact_id"] == "5")["known_as"].to_list() == ["helpdesk: 5, newsletter: 1"]
    ledger = data_dir / "state" / "consent-ledger" / "newsletter.jsonl"
    assert ledger.stat().st_mode & 0o777 == 0o600


def test_a_damaged_consent_ledger_stops_no_build(env):
    """One corrupt line in the middle of the ledger blocked every build. Now the build goes on
    (every table, the readable consent history) and the finding names the line."""
    sources, data_dir, _ = env
    first = build_snapshot(sources, data_dir=data_dir)
    ledger = data_dir / "state" / "consent-ledger" / "newsletter.jsonl"
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(lines[0] + b"{kaputt\n" + b"".join(lines[1:]))
    second = build_snapshot(sources, data_dir=data_dir)
    assert second.tables["tickets"] == first.tables["tickets"]
    assert second.tables["consent_events"] == first.tables["consent_events"]  # the readable history, whole
    assert ("newsletter", "ledger_damaged", "line 2: not valid JSON") in _rows(
        second.path, "SELECT source, finding, subject FROM source_findings")


def _fails_in_one_line(sources, data_dir, db: str, break_sql: str, mend_sql: str, message: str) -> None:
    """With the system changed by ``break_sql``, the build fails with exactly ``message``; then mended."""
    _run(db, break_sql)
    try:
        with pytest.raises(SourceError) as failed:
            build_snapshot(sources, data_dir=data_dir)
        assert str(failed.value) == message and "\n" not in message
    finally:
        _run(db, mend_sql)


def test_missing_grant_or_column_fails_in_one_line_and_keeps_the_snapshot(env):
    sources, data_dir, admin = env
    live = build_snapshot(sources, data_dir=data_dir).path
    _fails_in_one_line(sources, data_dir, _database(admin, "zammad"),
                       "REVOKE SELECT (last_close_at) ON tickets FROM dsgvo_cockpit_zammad",
                       "GRANT SELECT (last_close_at) ON tickets TO dsgvo_cockpit_zammad",
                       "helpdesk (zammad): table public.tickets: no SELECT grant on column last_close_at "
                       "(see docs/CONNECTORS.md for the read-only role)")
    _fails_in_one_line(sources, data_dir, _database(admin, "listmonk"),
                       "ALTER TABLE subscriber_lists RENAME COLUMN meta TO meta_v9",
                       "ALTER TABLE subscriber_lists RENAME COLUMN meta_v9 TO meta",
                       "newsletter (listmonk): table public.subscriber_lists: column meta missing "
                       "(unexpected listmonk schema version)")
    assert current_snapshot(data_dir / "snapshots") == live


def test_a_mapping_to_an_unknown_value_is_refused_before_reading(tmp_path):
    from dashboard.ingest.config import TableSource
    from dashboard.ingest.connectors import listmonk, zammad

    helpdesk = TableSource("tickets", "helpdesk", "zammad", "zammad", "ZAMMAD_DSN",
                           settings={"categories": {"Netzwerk": "netz"}})
    with pytest.raises(SourceError, match=r"helpdesk \(zammad\): categories: \{'Netzwerk': 'netz'\} map to no "
                                          r"tickets.category \(allowed: hardware, "):
        zammad.check_settings(helpdesk)
    newsletter = TableSource("consent_events", "newsletter", "listmonk", "listmonk", "LISTMONK_DSN",
                             settings={"purposes": {"Newsletter": "marketing"}})
    with pytest.raises(SourceError, match="map to no consent_events.purpose"):
        listmonk.check_settings(newsletter)


def test_unchanged_zammad_attachments_are_copied_and_a_moved_article_is_read_again(env):
    """Incremental refresh on the systems' own tables: attachments (no person in them) are copied while
    their relations keep their row counts and newest updated_at; tickets and contacts carry merged people
    and consent events feed the ledger, so those are read every time. An article moved by a merge (Zammad
    touches it first) is read again; without the updated_at grant, attachments are read every time."""
    from tests.helpers import assert_same_snapshot

    sources, data_dir, admin = env
    zammad = _database(admin, "zammad")
    first = build_snapshot(sources, data_dir=data_dir)
    again = build_snapshot(sources, data_dir=data_dir)
    assert "attachments" in again.reused
    assert not {"contacts", "tickets", "consent_events"} & set(again.reused)
    assert_same_snapshot(first.path, again.path)
    try:
        _run(zammad, "UPDATE ticket_articles SET ticket_id = 1, updated_at = now() WHERE id = 3")
        moved = build_snapshot(sources, data_dir=data_dir)
        assert "attachments" not in moved.reused
        assert _rows(moved.path, "SELECT ticket_id FROM attachments WHERE attachment_id = '3'") == [("1",)]
        assert_same_snapshot(moved.path, build_snapshot(sources, data_dir=data_dir, full=True).path)
        _run(zammad, "REVOKE SELECT (updated_at) ON stores FROM dsgvo_cockpit_zammad")
        assert "attachments" not in build_snapshot(sources, data_dir=data_dir).reused
    finally:
        _run(zammad, "UPDATE ticket_articles SET ticket_id = 3 WHERE id = 3")
        _run(zammad, "GRANT SELECT (updated_at) ON stores TO dsgvo_cockpit_zammad")


def test_what_the_connectors_watch_moves_with_every_change(env):
    """listmonk's subscribers: an edit (listmonk sets updated_at) and a deletion each change what the
    next build compares; Zammad's customers are not watched (their roles have no updated_at)."""
    from dashboard.ingest.connectors import state as watched_state
    from dashboard.ingest.readers import load_sources

    sources, data_dir, admin = env
    parts = load_sources(sources, data_dir)["contacts"]
    helpdesk, newsletter = parts
    assert watched_state(helpdesk) is None
    listmonk = _database(admin, "listmonk")
    before = watched_state(newsletter)
    assert before == watched_state(newsletter)
    _run(listmonk, "INSERT INTO subscribers (id, uuid, email, name, created_at) "
                   "VALUES (9, gen_random_uuid(), 'watched@example.org', 'Neu', '2026-07-01 10:00:00+00')")
    try:
        added = watched_state(newsletter)
        assert added != before
        _run(listmonk, "UPDATE subscribers SET name = 'Neu Name', updated_at = now() WHERE id = 9")
        edited = watched_state(newsletter)
        assert edited not in (before, added)
    finally:
        _run(listmonk, "DELETE FROM subscribers WHERE id = 9")
    assert watched_state(newsletter) not in (added, edited)
