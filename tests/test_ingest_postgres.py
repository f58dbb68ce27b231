"""A snapshot built from a real PostgreSQL source (streamed through ADBC) equals its source."""

from __future__ import annotations

from pathlib import Path

import adbc_driver_postgresql.dbapi as pg
import polars as pl
import pytest

from dashboard.build import build_snapshot
from dashboard.ingest.config import SourceError
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def dsn(pg_dsn):
    return pg_dsn


def _sources_with_postgres_helpdesk(demo_dir, path):
    text = f"""
[sources.helpdesk_db]
kind = "postgres"
dsn_env = "HELPDESK_PG_DSN"

[sources.files]
kind = "jsonl"
path = "{demo_dir}/privacy_register"

[sources.billing]
kind = "parquet"
path = "{demo_dir}/billing"

[sources.newsletter]
kind = "jsonl"
path = "{demo_dir}/newsletter"

[tables.contacts]
source = "helpdesk_db"
query = '''SELECT id AS contact_id, vorname, nachname, email, phone, street, postal_code, city, created_at
           FROM helpdesk.contacts'''
[tables.contacts.columns]
first_name = "vorname"
last_name = "nachname"

[tables.tickets]
source = "helpdesk_db"
query = "SELECT * FROM helpdesk.tickets"

[tables.attachments]
source = "helpdesk_db"
query = "SELECT * FROM helpdesk.attachments"

[tables.contracts]
source = "billing"
file = "contracts.parquet"

[tables.invoices]
source = "billing"
file = "invoices.parquet"

[tables.consent_events]
source = "newsletter"
file = "consent_events.jsonl"
"""
    for table in ("requests", "request_pauses", "request_events", "incidents", "holds"):
        text += f'\n[tables.{table}]\nsource = "files"\nfile = "{table}.jsonl"\n'
    path.write_text(text, encoding="utf-8")
    return path


def _load_helpdesk(dsn, demo_dir):
    """Put the demo helpdesk into PostgreSQL with native types, as a real helpdesk database has."""
    frames = {
        "contacts": pl.read_csv(demo_dir / "helpdesk/contacts.csv", infer_schema=False).rename(
            {"contact_id": "id", "first_name": "vorname", "last_name": "nachname"}).with_columns(
            pl.col("created_at").str.to_datetime(time_zone="UTC")),
        "tickets": pl.read_csv(demo_dir / "helpdesk/tickets.csv", infer_schema=False).with_columns(
            pl.col("opened_at", "closed_at").str.to_datetime(time_zone="UTC"),
            pl.col("message_count").cast(pl.Int32)),
        "attachments": pl.read_csv(demo_dir / "helpdesk/attachments.csv", infer_schema=False).with_columns(
            pl.col("size_bytes").cast(pl.Int64)),
    }
    with pg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS helpdesk CASCADE")
        cur.execute("CREATE SCHEMA helpdesk")
        for name, frame in frames.items():
            cur.adbc_ingest(name, frame.to_arrow(), mode="create", db_schema_name="helpdesk")
        conn.commit()
    return {name: frame.height for name, frame in frames.items()}


def test_snapshot_from_postgres(dsn, demo_data_dir, tmp_path, monkeypatch):
    demo = demo_data_dir / "demo"
    counts = _load_helpdesk(dsn, demo)
    monkeypatch.setenv("HELPDESK_PG_DSN", dsn)
    sources = _sources_with_postgres_helpdesk(demo, tmp_path / "sources.toml")
    result = build_snapshot(sources, data_dir=tmp_path / "data")
    for table, n in counts.items():
        assert result.tables[table] == (n, n, 0), table
    con = open_snapshot(result.path)
    got = con.sql("SELECT contact_id, first_name, last_name FROM contacts ORDER BY contact_id LIMIT 3").fetchall()
    src = pl.read_csv(demo / "helpdesk/contacts.csv", infer_schema=False).sort("contact_id").head(3)
    assert got == list(src.select("contact_id", "first_name", "last_name").iter_rows())
    ticket = con.sql("SELECT closed_at FROM tickets WHERE ticket_id = 'T00000001'").fetchall()[0]
    raw = pl.read_csv(demo / "helpdesk/tickets.csv", infer_schema=False).filter(pl.col("ticket_id") == "T00000001")
    assert ticket[0].strftime("%Y-%m-%dT%H:%M:%SZ") == raw["closed_at"].item()


def test_unreachable_postgres_keeps_previous_snapshot(demo_data_dir, tmp_path, monkeypatch, dsn):
    demo = demo_data_dir / "demo"
    _load_helpdesk(dsn, demo)
    sources = _sources_with_postgres_helpdesk(demo, tmp_path / "sources.toml")
    monkeypatch.setenv("HELPDESK_PG_DSN", dsn)
    first = build_snapshot(sources, data_dir=tmp_path / "data").path
    monkeypatch.setenv("HELPDESK_PG_DSN", "postgresql://postgres@127.0.0.1:1/postgres")
    with pytest.raises(SourceError, match=r"helpdesk_db \(postgres: query\): table contacts"):
        build_snapshot(sources, data_dir=tmp_path / "data")
    assert current_snapshot(tmp_path / "data" / "snapshots") == first
    assert not [p for p in (tmp_path / "data" / "snapshots").iterdir() if p.name.startswith(".building-")]
    monkeypatch.delenv("HELPDESK_PG_DSN")
    with pytest.raises(SourceError, match="HELPDESK_PG_DSN is not set"):
        build_snapshot(sources, data_dir=tmp_path / "data")


def test_postgres_stopped_mid_stream_fails_cleanly(tmp_path, monkeypatch):
    """The server dies while a large table streams: a clear error, no temporary file, old snapshot live."""
    import threading
    import time

    from tests.helpers import write_store
    from tests.pg import postgres_server

    with postgres_server() as server:
        if not server.embedded:
            pytest.skip("TEST_PG_DSN points at a server this test must not stop")
        with pg.connect(server.dsn) as conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA helpdesk")
            cur.execute("""CREATE TABLE helpdesk.tickets AS
                SELECT 'T' || g AS ticket_id, 'C' || (g % 1000) AS contact_id,
                       now() - interval '300 days' AS opened_at, now() - interval '200 days' AS closed_at,
                       'closed' AS status, 'network' AS category, 3 AS message_count
                FROM generate_series(1, 4000000) g""")
            conn.commit()
        sources = write_store(tmp_path / "src", {})
        data = tmp_path / "data"
        previous = build_snapshot(sources, data_dir=data).path
        text = sources.read_text(encoding="utf-8").replace(
            '[tables.tickets]\nsource = "fixture"\nfile = "tickets.jsonl"',
            '[tables.tickets]\nsource = "db"\nquery = "SELECT * FROM helpdesk.tickets"')
        sources.write_text(text + '\n[sources.db]\nkind = "postgres"\ndsn_env = "MIDSTREAM_PG_DSN"\n', encoding="utf-8")
        monkeypatch.setenv("MIDSTREAM_PG_DSN", server.dsn)
        outcome: dict = {}

        def build() -> None:
            try:
                build_snapshot(sources, data_dir=data)
                outcome["ok"] = True
            except Exception as exc:  # noqa: BLE001 - the test inspects what came out
                outcome["error"] = exc

        builder = threading.Thread(target=build)
        builder.start()
        # Stop the server once the ticket query is running.
        deadline = time.monotonic() + 30
        with pg.connect(server.dsn) as conn, conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%helpdesk.tickets%' "
                            "AND pid <> pg_backend_pid()")
                if cur.fetchone()[0]:
                    break
                conn.rollback()  # statistics are a snapshot per transaction: look again
                time.sleep(0.05)
        server.stop()
        builder.join(timeout=120)
    assert "error" in outcome, "the build finished before the server stopped"
    assert isinstance(outcome["error"], SourceError), repr(outcome["error"])
    assert "db (postgres: query): table tickets" in str(outcome["error"])
    assert current_snapshot(data / "snapshots") == previous
    assert not [p for p in (data / "snapshots").iterdir() if p.name.startswith(".building-")]


def test_an_unchanged_postgres_table_with_updated_column_is_copied(dsn, demo_data_dir, tmp_path, monkeypatch):
    """Incremental refresh for a postgres source: a table naming its `updated_column` is copied while its
    row count and newest change stay the same; an update that sets the column and a deletion are each
    read again, and the snapshot is the one a full build publishes. Tables without it are read every time."""
    from tests.helpers import assert_same_snapshot

    demo = demo_data_dir / "demo"
    _load_helpdesk(dsn, demo)
    with pg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE helpdesk.tickets ADD COLUMN updated_at timestamptz NOT NULL "
                    "DEFAULT '2026-11-01 00:00:00+00'")
    monkeypatch.setenv("HELPDESK_PG_DSN", dsn)
    sources = _sources_with_postgres_helpdesk(demo, tmp_path / "sources.toml")
    sources.write_text(sources.read_text(encoding="utf-8").replace(
        'query = "SELECT * FROM helpdesk.tickets"', 'query = "SELECT * FROM helpdesk.tickets;"\n'
                                                   'updated_column = "updated_at"'), encoding="utf-8")
    data_dir = tmp_path / "data"
    first = build_snapshot(sources, data_dir=data_dir)
    again = build_snapshot(sources, data_dir=data_dir)
    assert "tickets" in again.reused
    assert not {"contacts", "attachments"} & set(again.reused)
    assert_same_snapshot(first.path, again.path)

    def change(sql: str):
        with pg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(sql)
        changed = build_snapshot(sources, data_dir=data_dir)
        assert "tickets" not in changed.reused
        full = build_snapshot(sources, data_dir=data_dir, full=True)
        assert changed.tables == full.tables
        assert_same_snapshot(changed.path, full.path)
        return changed

    closed = change("UPDATE helpdesk.tickets SET status = 'closed', closed_at = '2026-11-20 10:00:00+00', "
                    "updated_at = '2026-11-20 10:00:00+00' WHERE ticket_id = (SELECT min(ticket_id) "
                    "FROM helpdesk.tickets WHERE status = 'open')")
    assert closed.tables["tickets"] == first.tables["tickets"]
    fewer = change("DELETE FROM helpdesk.tickets WHERE ticket_id = (SELECT max(ticket_id) FROM helpdesk.tickets)")
    assert fewer.tables["tickets"][0] == first.tables["tickets"][0] - 1


def test_updated_column_is_for_postgres_tables_only(demo_data_dir, tmp_path):
    from dashboard.ingest.readers import load_sources

    sources = tmp_path / "sources.toml"
    default = (Path(__file__).resolve().parent.parent / "data" / "sources.toml").read_text(encoding="utf-8")
    sources.write_text(default.replace('file = "tickets.csv"', 'file = "tickets.csv"\nupdated_column = "x"'),
                       encoding="utf-8")
    with pytest.raises(SourceError, match=r"tables.tickets.updated_column: a column name, for postgres sources only"):
        load_sources(sources, demo_data_dir)
