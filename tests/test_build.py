"""Snapshot build: validation with reasons, derived dates, metadata, atomic publish, failure safety."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from dashboard import __version__
from dashboard.build import build_snapshot
from dashboard.ingest.config import SourceError
from dashboard.policy import load_policy
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot, list_snapshots
from tests.helpers import snapshot_rows, write_store

CONTACT = {"contact_id": "C1", "first_name": "Erika", "last_name": "Muster", "created_at": "2024-01-01T00:00:00Z"}


def _scalar(con, sql, params=None):
    return con.sql(sql, params=params).fetchall()[0][0]


def test_demo_snapshot_counts_and_meta(demo_data_dir):
    path = current_snapshot(demo_data_dir / "snapshots")
    con = open_snapshot(path)
    tables = con.sql("SELECT table_name, rows_read, accepted, rejected FROM snapshot_tables").fetchall()
    assert len(tables) == 13  # the canonical tables, deletion_tasks included
    for name, read, accepted, rejected in tables:
        assert read == accepted + rejected, name
        assert _scalar(con, f"SELECT count(*) FROM {name}") == accepted
    assert _scalar(con, "SELECT count(*) FROM contacts") == 2000 + 5  # the bulk and the situations' own contacts
    meta = con.sql("SELECT policy_version, app_version, build_seconds FROM snapshot_meta").fetchall()[0]
    assert meta[0] == load_policy().version and meta[1] == __version__ and meta[2] > 0
    # Only the needed columns are copied: no message bodies; the retention dates live in retention_records.
    columns = {r[0] for r in con.sql("DESCRIBE tickets").fetchall()}
    assert "body" not in columns and "retained_until" not in columns


def test_invalid_rows_are_kept_aside_with_reason(tmp_path):
    sources = write_store(tmp_path / "src", {
        "contacts": [CONTACT, {**CONTACT, "contact_id": "C2", "created_at": "not a date"},
                     {**CONTACT, "contact_id": "C1"},
                     # names are optional (a customer created from an e-mail has none) ...
                     {**CONTACT, "contact_id": "C3", "first_name": "", "last_name": "", "email": "c3@example.org"},
                     # ... but a contact needs a name or an e-mail
                     {**CONTACT, "contact_id": "C4", "first_name": "", "last_name": ""}],
        "tickets": [
            {"ticket_id": "T1", "contact_id": "C1", "opened_at": "2025-08-01T08:00:00Z",
             "closed_at": "2025-08-31T08:00:00Z", "status": "closed", "category": "network", "message_count": "3"},
            {"ticket_id": "T2", "contact_id": "C1", "opened_at": "2025-08-01T08:00:00Z",
             "status": "solved", "category": "network"},
            {"ticket_id": "T3", "contact_id": "C1", "opened_at": "2025-08-01T08:00:00Z",
             "status": "open", "category": "network", "message_count": "many"},
        ],
    })
    result = build_snapshot(sources, data_dir=tmp_path / "data")
    assert result.tables["contacts"] == (5, 2, 3)
    assert result.tables["tickets"] == (3, 1, 2)
    con = open_snapshot(result.path)
    reasons = dict(((t, k), r) for t, k, r in con.sql(
        "SELECT table_name, record_key, reason FROM rejected_rows").fetchall())
    assert reasons[("contacts", "C2")] == "created_at: not a valid TIMESTAMPTZ"
    assert reasons[("contacts", "C1")] == "duplicate key contact_id"
    assert ("contacts", "C3") not in reasons
    assert reasons[("contacts", "C4")] == "contact: needs a name or an e-mail"
    assert reasons[("tickets", "T2")].startswith("status: unknown value")
    assert reasons[("tickets", "T3")] == "message_count: not a valid INTEGER"
    # Derived: ticket closed 2025-08-31 (Berlin) is retained until 2026-02-28 (R3.1).
    assert _scalar(con, "SELECT retained_until FROM retention_records WHERE record_type = 'ticket' "
                        "AND record_id = 'T1'") == dt.date(2026, 2, 28)


def test_request_dates_derived_in_berlin_time(tmp_path):
    sources = write_store(tmp_path / "src", {"requests": [
        # 23:30 UTC on 31 Dec is already 1 Jan in Berlin: received on a holiday still counts (R1.2).
        {"request_id": "Q1", "right": "access", "channel": "email", "received_at": "2025-12-24T23:30:00Z",
         "status": "in_progress"},
        {"request_id": "Q2", "right": "erasure", "channel": "letter", "received_at": "2025-01-15T09:00:00Z",
         "extension_notified_at": "2025-02-18T09:00:00Z", "status": "in_progress"},
        {"request_id": "Q3", "right": "erasure", "channel": "letter", "received_at": "2025-01-15T09:00:00Z",
         "extension_notified_at": "2025-02-17T09:00:00Z", "status": "completed",
         "closed_at": "2025-04-15T20:00:00Z"},
    ]})
    con = open_snapshot(build_snapshot(sources, data_dir=tmp_path / "d").path)
    rows = {r[0]: r[1:] for r in con.sql(
        "SELECT request_id, received_date, due, extended_due, extension, deadline, answered_on_time "
        "FROM requests").fetchall()}
    D = dt.date.fromisoformat
    assert rows["Q1"] == (D("2025-12-25"), D("2026-01-26"), D("2026-03-25"), "none", D("2026-01-26"), None)
    assert rows["Q2"][3:5] == ("invalid_late", D("2025-02-17"))
    assert rows["Q3"][3:] == ("valid", D("2025-04-15"), True)


def test_a_rejected_row_is_numbered_within_its_own_source(tmp_path):
    """Two sources feed contacts; each rejected row is named by its source and its place there, whatever
    the reader staged (a view over the file) and however many rows the sources before it had."""
    sources = write_store(tmp_path / "src", {"contacts": [CONTACT, {**CONTACT, "contact_id": "C2", "created_at": "x"},
                                                          {**CONTACT, "contact_id": "C3"}]})
    crm = tmp_path / "crm"
    crm.mkdir()
    rows = [("C1", "2024-02-01T00:00:00Z"), ("C7", "2024-02-01T00:00:00Z"), ("C8", "gestern"),
            ("C7", "2024-03-01T00:00:00Z")]
    (crm / "contacts.jsonl").write_text("".join(json.dumps({"contact_id": c, "email": f"{c}@example.org",
                                                            "created_at": at}) + "\n" for c, at in rows),
                                        encoding="utf-8")
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.contacts]\nsource = "fixture"', '[tables.contacts]\nsource = ["fixture", "crm"]')
    sources.write_text(text + f'\n[sources.crm]\nkind = "jsonl"\npath = "{crm}"\n', encoding="utf-8")
    built = build_snapshot(sources, data_dir=tmp_path / "data")
    assert built.tables["contacts"] == (7, 4, 3)
    rejected = snapshot_rows(built.path, "SELECT source, record_key, source_row, reason FROM rejected_rows "
                                         "WHERE table_name = 'contacts' ORDER BY source, source_row")
    assert [(s.split(" ")[0], k, n) for s, k, n, _ in rejected] == [("crm", "C8", 3), ("crm", "C7", 4),
                                                                     ("fixture", "C2", 2)]
    assert [r[3] for r in rejected] == ["created_at: not a valid TIMESTAMPTZ", "duplicate key contact_id",
                                        "created_at: not a valid TIMESTAMPTZ"]


@pytest.mark.parametrize("own_column", [False, True], ids=["numbered", "file_has_file_row_number"])
def test_a_parquet_source_written_in_any_order_keeps_its_row_numbers_and_first_keys(tmp_path, own_column):
    """A Parquet file's rows are written in whatever order DuckDB's threads finish them (the reader
    stages each row's number instead): a rejected row is still named by its line in the file, and of
    two rows with one key the earlier in the file is kept, however the row groups were interleaved. A
    file with a column named file_row_number (which DuckDB cannot number) is read in its order."""
    import polars as pl

    sources = write_store(tmp_path / "src", {"contacts": [CONTACT]})
    n = 60_000
    ids = [f"I{i:06d}" for i in range(n)]
    dates = ["2025-03-01"] * n
    for earlier, later in ((10, n - 10), (25_000, 25_001), (3, 40_000)):
        ids[later] = ids[earlier]
        dates[later] = "2025-04-01"  # the later row, rejected as a duplicate
    dates[45_000] = "kein Datum"
    billing = tmp_path / "billing"
    billing.mkdir()
    frame = pl.DataFrame({"invoice_id": ids, "contract_id": "K1", "contact_id": "C1", "invoice_date": dates,
                          "amount_eur": "10.00"})
    if own_column:
        frame = frame.with_columns(file_row_number=pl.lit(7))
    frame.write_parquet(billing / "invoices.parquet", row_group_size=1_000)
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.invoices]\nsource = "fixture"\nfile = "invoices.jsonl"',
        '[tables.invoices]\nsource = "billing"\nfile = "invoices.parquet"')
    sources.write_text(text + f'\n[sources.billing]\nkind = "parquet"\npath = "{billing}"\n', encoding="utf-8")
    built = build_snapshot(sources, data_dir=tmp_path / "data")
    assert built.tables["invoices"] == (n, n - 4, 4)
    rejected = snapshot_rows(built.path, "SELECT record_key, source_row, reason FROM rejected_rows "
                                         "WHERE table_name = 'invoices' ORDER BY source_row")
    assert rejected == [("I025000", 25_002, "duplicate key invoice_id"),
                        ("I000003", 40_001, "duplicate key invoice_id"),
                        ("I045000", 45_001, "invoice_date: not a valid DATE"),
                        ("I000010", n - 9, "duplicate key invoice_id")]
    kept = snapshot_rows(built.path, "SELECT DISTINCT invoice_date FROM invoices WHERE invoice_id IN "
                                     "('I000003', 'I000010', 'I025000')")
    assert kept == [(dt.date(2025, 3, 1),)]


def test_failing_source_keeps_previous_snapshot(tmp_path):
    data = tmp_path / "data"
    sources = write_store(tmp_path / "src", {"contacts": [CONTACT]})
    first = build_snapshot(sources, data_dir=data).path
    (tmp_path / "src" / "tickets.jsonl").unlink()
    with pytest.raises(SourceError, match=r"fixture \(jsonl: .*tickets.jsonl\): file not found"):
        build_snapshot(sources, data_dir=data)
    assert current_snapshot(data / "snapshots") == first
    assert sorted(p.name for p in (data / "snapshots").iterdir() if p.name.startswith(".building")) == []
    assert list_snapshots(data / "snapshots") == [first]


def test_unparseable_lines_are_kept_aside_with_line_and_reason(tmp_path):
    data = tmp_path / "data"
    sources = write_store(tmp_path / "src", {"contacts": [CONTACT]})
    hold = ('{"hold_id": "H1", "record_type": "ticket", "record_id": "T1", "kind": "legal", "reason": "x", '
            '"set_by": "y", "set_at": "2026-01-01T00:00:00Z"}\n')
    (tmp_path / "src" / "holds.jsonl").write_bytes(hold.encode() + b'{"hold_id": "H2", broken\n'
                                                   + b'{"hold_id": "H\xe4"}\n')
    result = build_snapshot(sources, data_dir=data)
    assert result.tables["holds"] == (3, 1, 2)  # read = accepted + rejected, nothing lost
    con = open_snapshot(result.path)
    reasons = con.sql("SELECT source_row, reason FROM rejected_rows WHERE table_name = 'holds' "
                      "ORDER BY source_row").fetchall()
    assert reasons == [(2, "line 2: not valid JSON or not UTF-8"), (3, "line 3: not valid JSON or not UTF-8")]


def test_corrupt_file_fails_with_source_and_cause(tmp_path):
    data = tmp_path / "data"
    sources = write_store(tmp_path / "src", {"contacts": [CONTACT]})
    first = build_snapshot(sources, data_dir=data).path
    (tmp_path / "src" / "contracts.parquet").write_bytes(b"PAR1 this is not parquet")
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.contracts]\nsource = "fixture"\nfile = "contracts.jsonl"',
        '[tables.contracts]\nsource = "pq"\nfile = "contracts.parquet"')
    sources.write_text(text + f'\n[sources.pq]\nkind = "parquet"\npath = "{tmp_path / "src"}"\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"pq \(parquet: .*contracts.parquet\): table contracts"):
        build_snapshot(sources, data_dir=data)
    assert current_snapshot(data / "snapshots") == first
    assert not [p for p in (data / "snapshots").iterdir() if p.name.startswith(".building-")]


def test_missing_required_column_is_named(tmp_path):
    sources = write_store(tmp_path / "src", {"contacts": [{"contact_id": "C1", "first_name": "A",
                                                           "last_name": "B"}]})
    with pytest.raises(SourceError, match="required column 'created_at' is missing"):
        build_snapshot(sources, data_dir=tmp_path / "data")


def test_publish_switches_pointer_and_prunes(tmp_path):
    data = tmp_path / "data"
    sources = write_store(tmp_path / "src", {"contacts": [CONTACT]})
    paths = [build_snapshot(sources, data_dir=data, keep=3, full=True).path for _ in range(4)]  # each publishes
    assert list_snapshots(data / "snapshots") == paths[1:]
    assert current_snapshot(data / "snapshots") == paths[-1]


def test_new_version_is_seen_by_a_process_holding_the_old_one(tmp_path):
    data = tmp_path / "data"
    src = tmp_path / "src"
    sources = write_store(src, {"contacts": [CONTACT]})
    old = open_snapshot(build_snapshot(sources, data_dir=data).path)
    write_store(src, {"contacts": [CONTACT, {**CONTACT, "contact_id": "C2"}]})
    new_path = build_snapshot(sources, data_dir=data).path
    assert _scalar(old, "SELECT count(*) FROM contacts") == 1
    new = open_snapshot(current_snapshot(data / "snapshots"))
    assert current_snapshot(data / "snapshots") == new_path
    assert _scalar(new, "SELECT count(*) FROM contacts") == 2


def test_snapshot_lives_under_the_data_dir(tmp_path):
    # Generated (personal) data goes below DASHBOARD_DATA_DIR, never into the checkout.
    sources = write_store(tmp_path / "src", {})
    result = build_snapshot(sources, data_dir=tmp_path / "data")
    assert result.path.parent == tmp_path / "data" / "snapshots"
    assert os.path.commonpath([result.path, tmp_path]) == str(tmp_path)


def test_optional_table_left_out_of_sources_is_empty(tmp_path):
    sources = write_store(tmp_path / "src", {})
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace('[tables.incident_records]\nsource = "fixture"\nfile = "incident_records.jsonl"\n',
                                    ""), encoding="utf-8")
    assert "incident_records" not in sources.read_text(encoding="utf-8")
    result = build_snapshot(sources, data_dir=tmp_path / "data")
    con = open_snapshot(result.path)
    assert _scalar(con, "SELECT count(*) FROM incident_records") == 0
    assert _scalar(con, "SELECT source FROM snapshot_tables WHERE table_name = 'incident_records'") is None
    # A required table left out is still an error that names it.
    with pytest.raises(SourceError, match="tables.holds: missing"):
        sources.write_text(text.replace('[tables.holds]\nsource = "fixture"\nfile = "holds.jsonl"\n', ""),
                           encoding="utf-8")
        build_snapshot(sources, data_dir=tmp_path / "data")


def test_people_across_sources_and_local_time(tmp_path):
    """Contacts of two sources with the same e-mail (another case, spaces) are one person with the
    first source's id; an e-mail shared inside one source is not matched but listed; a source's
    timestamps without an offset are read in its configured time zone."""
    helpdesk = write_store(tmp_path / "helpdesk", {
        "contacts": [{**CONTACT, "contact_id": "1", "email": "Max@Example.org"},
                     {**CONTACT, "contact_id": "2", "email": "twin@example.org"},
                     {**CONTACT, "contact_id": "3", "email": "twin@example.org"}],
        "tickets": [{"ticket_id": "T1", "contact_id": "1", "opened_at": "2026-03-29 01:30:00",
                     "closed_at": "2026-03-29T03:30:00+02:00", "status": "closed", "category": "network"}],
    })
    news = tmp_path / "news"
    news.mkdir()
    (news / "contacts.jsonl").write_text(
        '{"contact_id": "1", "email": " max@example.org", "first_name": "M", "created_at": "2023-01-01T00:00:00Z"}\n'
        '{"contact_id": "9", "email": "twin@example.org", "created_at": "2024-01-01T00:00:00Z"}\n', encoding="utf-8")
    (news / "consent_events.jsonl").write_text(
        '{"event_id": "E1", "contact_id": "1", "purpose": "newsletter", "action": "granted", '
        '"occurred_at": "2024-01-01T00:00:00Z", "channel": "web"}\n', encoding="utf-8")
    text = helpdesk.read_text(encoding="utf-8").replace('[sources.fixture]\nkind = "jsonl"',
                                                       '[sources.fixture]\nkind = "jsonl"\ntimezone = "Europe/Berlin"')
    text = text.replace('[tables.contacts]\nsource = "fixture"', '[tables.contacts]\nsource = ["fixture", "news"]')
    text = text.replace('[tables.consent_events]\nsource = "fixture"', '[tables.consent_events]\nsource = "news"')
    text += f'\n[sources.news]\nkind = "jsonl"\npath = "{news}"\n'
    sources = tmp_path / "sources.toml"
    sources.write_text(text, encoding="utf-8")
    con = open_snapshot(build_snapshot(sources, data_dir=tmp_path / "data").path)
    assert con.sql("SELECT contact_id, first_name, email, created_at FROM contacts ORDER BY contact_id").fetchall() == [
        ("1", "Erika", "Max@Example.org", dt.datetime(2023, 1, 1, tzinfo=dt.UTC)),  # names from the first source
        ("2", "Erika", "twin@example.org", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        ("3", "Erika", "twin@example.org", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        ("news:9", None, "twin@example.org", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
    ]
    assert con.sql("SELECT contact_id FROM consent_events").fetchall() == [("1",)]
    assert con.sql("SELECT source, source_contact_id FROM identity_ambiguities").fetchall() == [
        ("fixture", "2"), ("fixture", "3")]
    # 01:30 on the night the clocks go forward is CET (+01:00); 03:30+02:00 keeps its own offset.
    assert con.sql("SELECT opened_at, closed_at FROM tickets").fetchall() == [
        (dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC))]
