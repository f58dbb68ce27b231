"""Incremental refresh (dashboard.build.reuse): tables whose source files did not change are copied from
the live snapshot, and the snapshot is the one a full build publishes from the same files."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from dashboard.build import build_snapshot
from dashboard.cli import main
from dashboard.schema import TABLES
from dashboard.snapshot import SEGMENTS, segments_named, snapshot_problem
from dashboard.snapshot import connect as open_snapshot
from tests.helpers import assert_same_snapshot

EVERY_TABLE = tuple(t.name for t in TABLES)
@pytest.fixture
def stores(demo_data_dir, tmp_path) -> Path:
    """A data dir of its own with a copy of the demo stores (CSV, Parquet and JSON Lines)."""
    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    return tmp_path


def test_unchanged_tables_are_copied_and_the_snapshot_equals_a_full_build(stores):
    """Unchanged files: every table copied from the live snapshot, the same snapshot. Then one file
    changed: that table is read again, the rest copied, and the snapshot is the one a full build
    publishes. Nothing is kept aside (an earlier version's build cache is removed)."""
    old_cache = stores / "state" / "build-cache"
    old_cache.mkdir(parents=True)
    (old_cache / "tickets-0123.duckdb").write_bytes(b"personal data of an earlier version")
    first = build_snapshot(data_dir=stores)
    assert first.reused == ()
    assert not old_cache.exists()
    kept = build_snapshot(data_dir=stores)  # nothing changed: the live snapshot stays
    assert (kept.unchanged, kept.path, kept.tables) == (True, first.path, first.tables)

    tickets = stores / "demo" / "helpdesk" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-3]) + "not;a;ticket\n", encoding="utf-8")  # fewer rows, one broken
    incremental = build_snapshot(data_dir=stores)
    assert set(incremental.reused) == set(EVERY_TABLE) - {"tickets"}
    # the helpdesk's retention records are made anew, and what is counted from them; billing's are copied
    assert incremental.derived_reused == ("retention_billing", "consent_spans")
    full = build_snapshot(data_dir=stores, full=True)
    assert full.reused == ()
    assert incremental.tables == full.tables
    assert incremental.tables["tickets"][2] >= 1  # the broken line is rejected, not lost
    assert_same_snapshot(incremental.path, full.path)
    assert not old_cache.exists()  # nothing kept aside: the snapshots are the only copy


def test_an_unreadable_live_snapshot_means_every_source_is_read(stores):
    first = build_snapshot(data_dir=stores)
    first.path.write_bytes(b"not a database")
    rebuilt = build_snapshot(data_dir=stores)
    assert rebuilt.reused == ()
    assert rebuilt.tables == first.tables


def test_same_size_and_time_but_other_bytes_is_a_change(stores):
    build_snapshot(data_dir=stores)
    requests = stores / "demo" / "privacy_register" / "requests.jsonl"
    before = requests.stat()
    text = requests.read_text(encoding="utf-8")
    at = text.index('"assignee":"') + len('"assignee":"')  # one letter of one name, same length
    swapped = text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1:]
    requests.write_text(swapped, encoding="utf-8")
    os.utime(requests, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "requests" not in build_snapshot(data_dir=stores).reused


def test_snapshot_full_on_the_command_line(stores, use_data_dir, capsys):
    build_snapshot(data_dir=stores)
    use_data_dir(stores)
    consent = stores / "demo" / "newsletter" / "consent_events.jsonl"
    consent.write_text(consent.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # other bytes, same rows
    assert main(["snapshot"]) == 0
    out = capsys.readouterr().out
    assert "reused from the live snapshot: contacts, tickets" in out
    assert ("made from unchanged tables, reused from the live snapshot: retention_helpdesk, "
            "retention_billing, retention_daily, subject_retention, subject_running\n") in out
    assert main(["snapshot", "--full"]) == 0
    assert "reused from the live snapshot" not in capsys.readouterr().out


def test_a_refresh_that_finds_nothing_changed_keeps_the_live_snapshot(stores, use_data_dir, capsys):
    """No source changed and the same policy: the refresh publishes nothing, keeps the live snapshot
    (the one a full build publishes from the same files) and records when it asked the sources, which
    `status` and the sidebar show. A file written anew with the same bytes is no change; another policy,
    `--full` or a changed file build again, and the new snapshot has no such record."""
    import dataclasses
    import datetime as dt

    from dashboard.policy import load_policy
    from dashboard.snapshot import last_check, list_snapshots

    first = build_snapshot(data_dir=stores)
    assert last_check(first.path) is None
    requests = stores / "demo" / "privacy_register" / "requests.jsonl"
    requests.write_bytes(requests.read_bytes())  # a new time, the same bytes
    before = dt.datetime.now(dt.UTC)
    kept = build_snapshot(data_dir=stores)
    assert kept.unchanged and kept.path == first.path and set(kept.reused) == set(EVERY_TABLE)
    assert list_snapshots(stores / "snapshots") == [first.path]
    assert before <= last_check(first.path) <= dt.datetime.now(dt.UTC)
    use_data_dir(stores)
    assert main(["status"]) == 0
    assert "sources last checked: " in capsys.readouterr().out
    assert main(["snapshot"]) == 0
    assert f"sources unchanged: {first.path.name} stays live" in capsys.readouterr().out

    full = build_snapshot(data_dir=stores, full=True)
    assert not full.unchanged and full.path != first.path and last_check(full.path) is None
    assert_same_snapshot(first.path, full.path)  # what was kept is what a full build publishes
    policy = load_policy()
    other = dataclasses.replace(policy, settings=dataclasses.replace(policy.settings, erasure_grace_days=8))
    assert not build_snapshot(policy=other, data_dir=stores).unchanged  # the rules changed: built again


def _two_contact_sources(stores: Path) -> Path:
    """The documented deployment's shape (docs/CONNECTORS.md): contacts from two systems, merged into
    people, so the helpdesk's tickets carry merged ids; billing, the newsletter and the privacy register
    do not feed contacts and use the ids as given."""
    helpdesk = (stores / "demo" / "helpdesk" / "contacts.csv").read_text(encoding="utf-8").splitlines()
    header, first = helpdesk[0], helpdesk[1].split(",")
    crm = stores / "crm"
    crm.mkdir()
    (crm / "contacts.csv").write_text(  # the first helpdesk contact is in the CRM too: one person, two systems
        f"{header}\nK1,,,,,,,{first[7].upper()},2024-01-01T00:00:00Z\nK2,,,,,,,only.crm@example.org,"
        "2024-02-01T00:00:00Z\n", encoding="utf-8")
    text = (Path(__file__).resolve().parent.parent / "data" / "sources.toml").read_text(encoding="utf-8")
    text = text.replace('[tables.contacts]\nsource = "helpdesk"', '[tables.contacts]\nsource = ["helpdesk", "crm"]')
    sources = stores / "sources.toml"
    sources.write_text(text + f'\n[sources.crm]\nkind = "csv"\npath = "{crm}"\n', encoding="utf-8")
    return sources


def test_with_people_merged_across_systems_the_other_systems_tables_are_copied(stores):
    """Merged people change the contact ids of the tables their systems feed (contacts, tickets): those
    are read again. Every other table, attachments too (it names no person), is copied while its files
    are unchanged, and the snapshot is the one a full build publishes."""
    sources = _two_contact_sources(stores)
    first = build_snapshot(sources, data_dir=stores)
    assert first.reused == ()
    con = open_snapshot(first.path)
    person = con.sql("SELECT contact_id FROM contact_identities WHERE source = 'crm' AND source_contact_id = 'K1'")
    assert person.fetchall() == [("C00000001",)]  # merged with the helpdesk's contact
    assert con.sql("SELECT count(*) FROM contacts WHERE contact_id = 'crm:K2'").fetchall() == [(1,)]
    con.close()
    merged = {"contacts", "tickets"}
    again = build_snapshot(sources, data_dir=stores)
    assert set(again.reused) == set(EVERY_TABLE) - merged
    assert_same_snapshot(first.path, again.path)

    crm = stores / "crm" / "contacts.csv"
    crm.write_text(crm.read_text(encoding="utf-8").replace("only.crm@", "renamed.crm@"), encoding="utf-8")
    invoices = stores / "demo" / "billing" / "invoices.parquet"
    pl.read_parquet(invoices).head(-2).write_parquet(invoices)  # two invoices fewer
    incremental = build_snapshot(sources, data_dir=stores)
    assert set(incremental.reused) == set(EVERY_TABLE) - merged - {"invoices"}
    full = build_snapshot(sources, data_dir=stores, full=True)
    assert full.reused == ()
    assert incremental.tables == full.tables
    assert incremental.tables["invoices"][0] == first.tables["invoices"][0] - 2
    assert_same_snapshot(incremental.path, full.path)


RETENTION_TABLES = {"retention_helpdesk", "retention_billing", "retention_daily",
                    "subject_retention", "subject_running"}


def test_derived_tables_are_copied_while_what_they_are_made_from_is_unchanged(stores, caplog):
    """An hour's work in the privacy register changes neither the governed records nor the consent events:
    the retention tables and the consent spans are copied from the live snapshot, what holds a record is
    made anew, and the snapshot is the one a full build publishes. A day of consent makes the spans anew,
    an ended contract billing's records and what is counted from them; another retention period makes
    every retention table anew."""
    import dataclasses
    import json

    from dashboard.policy import load_policy

    first = build_snapshot(data_dir=stores)
    assert first.derived_reused == ()
    requests = stores / "demo" / "privacy_register" / "requests.jsonl"
    rows = [json.loads(line) for line in requests.read_text(encoding="utf-8").splitlines()]
    erasure = next(r for r in rows if r["right"] == "erasure" and r["status"] != "completed" and r.get("contact_id"))
    erasure.update(status="completed", closed_at="2026-11-25T10:00:00Z")  # the subject's records: an erasure's now
    requests.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="dashboard.build.derive"):
        register = build_snapshot(data_dir=stores)
    assert set(register.reused) == set(EVERY_TABLE) - {"requests"}
    assert set(register.derived_reused) == RETENTION_TABLES | {"consent_spans"}
    # The refresh's log says, step by step, what it made and what it reused, and how long each took.
    steps = [re.fullmatch(r"(\w+): (made|reused) in \d+\.\d s", r.getMessage()) for r in caplog.records]
    assert [m.groups() for m in steps if m] == [
        ("build_retention_helpdesk", "reused"), ("build_retention_billing", "reused"),
        ("build_retention_records", "made"), ("build_retention_figures", "reused"),
        ("build_consent_spans", "reused"), ("build_holds", "made")]
    assert_same_snapshot(register.path, build_snapshot(data_dir=stores, full=True).path)

    events = stores / "demo" / "newsletter" / "consent_events.jsonl"
    last = json.loads(events.read_text(encoding="utf-8").splitlines()[-1])
    with events.open("a", encoding="utf-8") as out:
        out.write(json.dumps({**last, "event_id": "E-NEW-1", "action": "withdrawn",
                              "occurred_at": "2026-11-26T09:00:00Z"}) + "\n")
    consent = build_snapshot(data_dir=stores)
    assert set(consent.derived_reused) == RETENTION_TABLES
    assert_same_snapshot(consent.path, build_snapshot(data_dir=stores, full=True).path)

    contracts = stores / "demo" / "billing" / "contracts.parquet"
    frame = pl.read_parquet(contracts)
    ended = pl.int_range(pl.len()) == frame["end_date"].is_null().arg_true()[0]  # an open contract ends
    frame.with_columns(pl.when(ended).then(pl.date(2026, 11, 20)).otherwise(pl.col("end_date")).alias("end_date"),
                       pl.when(ended).then(pl.lit("ended")).otherwise(pl.col("status")).alias("status")
                       ).write_parquet(contracts)
    billing = build_snapshot(data_dir=stores)
    assert set(billing.derived_reused) == {"retention_helpdesk", "consent_spans"}
    assert_same_snapshot(billing.path, build_snapshot(data_dir=stores, full=True).path)

    policy = load_policy()
    category, rule = next(iter(policy.retention.items()))
    longer = dataclasses.replace(policy, retention={**policy.retention,
                                                    category: dataclasses.replace(rule, period=rule.period + 1)})
    rules = build_snapshot(policy=longer, data_dir=stores)
    assert rules.derived_reused == ()
    assert_same_snapshot(rules.path, build_snapshot(policy=longer, data_dir=stores, full=True).path)


def test_a_derived_groups_fingerprint_moves_with_what_it_is_made_from(monkeypatch):
    """Each group's fingerprint follows exactly the tables it reads, the policy and the layout: a changed
    ticket moves the helpdesk's records and the figures, never billing's or the consent spans; a table
    read every time leaves its groups without one (made every time)."""
    from dashboard.build import reuse
    from dashboard.snapshot import LAYOUT

    keys = {t: f"key-{t}" for t in EVERY_TABLE} | {reuse.POLICY_KEY: "policy"}
    base = reuse.derived_keys(keys, LAYOUT)
    assert None not in base.values() and len(set(base.values())) == len(reuse.DERIVED)
    moved = {g for g, k in reuse.derived_keys(keys | {"tickets": "other"}, LAYOUT).items() if k != base[g]}
    assert moved == {"derived:build_retention_helpdesk", "derived:build_retention_figures"}
    moved = {g for g, k in reuse.derived_keys(keys | {"consent_events": "other"}, LAYOUT).items() if k != base[g]}
    assert moved == {"derived:build_consent_spans"}
    assert all(base[g] != k for g, k in reuse.derived_keys(keys | {reuse.POLICY_KEY: "other"}, LAYOUT).items())
    assert all(base[g] != k for g, k in reuse.derived_keys(keys, LAYOUT + 1).items())
    # the table the retention parts fill is part of what they are made with
    text = reuse.queries.sql
    monkeypatch.setattr(reuse.queries, "sql", lambda name: text(name) + ("-- another column" if name ==
                                                                         "build_retention_records" else ""))
    assert all(base[g] != k for g, k in reuse.derived_keys(keys, LAYOUT).items())
    monkeypatch.setattr(reuse.queries, "sql", text)
    unread = reuse.derived_keys(keys | {"invoices": None}, LAYOUT)
    assert {g for g, k in unread.items() if k is None} == {"derived:build_retention_billing",
                                                           "derived:build_retention_figures"}
    recorded = {g: k for g, k in base.items() if k is not None}
    assert reuse.unchanged_derived(keys | base, recorded) == frozenset(reuse.DERIVED)
    assert reuse.unchanged_derived(keys | unread, recorded) == {"build_retention_helpdesk", "build_consent_spans"}


def _segments(data: Path) -> dict[str, int]:
    """The segment files in ``data``'s snapshot folder, by name, with their inode (a rewrite changes it)."""
    return {p.name: p.stat().st_ino for p in (data / "snapshots" / SEGMENTS).iterdir()}


def test_a_refresh_attaches_the_unchanged_large_tables_and_writes_only_what_changed(stores):
    """The large tables live in segments named by their fingerprint: a refresh after a change to tickets
    writes the tickets, the helpdesk's retention records (and the consent spans' and billing's stay the
    very same files, not copies); the snapshot equals a full build; pruning deletes the segments no kept
    snapshot names (the old tickets: personal data), and only those."""
    first = build_snapshot(data_dir=stores, keep=1)
    before = _segments(stores)
    assert before.keys() == segments_named(first.path)
    assert {name.rsplit("-", 1)[0] for name in before} == {
        "tickets", "attachments", "contracts", "invoices", "consent_events",
        "build_retention_helpdesk", "build_retention_billing", "build_consent_spans"}

    tickets = stores / "demo" / "helpdesk" / "tickets.csv"
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-1]), encoding="utf-8")
    second = build_snapshot(data_dir=stores, keep=1)
    after = _segments(stores)
    assert after.keys() == segments_named(second.path)
    kept = {name for name in before if not name.startswith(("tickets-", "build_retention_helpdesk-"))}
    assert {name: after.get(name) for name in kept} == {name: before[name] for name in kept}  # the same files
    new = after.keys() - before.keys()
    assert {name.rsplit("-", 1)[0] for name in new} == {"tickets", "build_retention_helpdesk"}
    assert not (before.keys() - kept) & after.keys()  # pruned with the only snapshot that named them
    assert_same_snapshot(second.path, build_snapshot(data_dir=stores, full=True, keep=2).path)


def test_a_snapshot_whose_segment_is_gone_is_not_read_and_the_next_build_makes_it_again(stores):
    first = build_snapshot(data_dir=stores)
    segment = next((stores / "snapshots" / SEGMENTS).glob("invoices-*.duckdb"))
    segment.unlink()
    assert "invoices-" in snapshot_problem(first.path)
    tickets = stores / "demo" / "helpdesk" / "tickets.csv"  # a change, so that the refresh builds
    lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
    tickets.write_text("".join(lines[:-1]), encoding="utf-8")
    second = build_snapshot(data_dir=stores)
    assert "invoices" not in second.reused and segment.is_file()
    assert snapshot_problem(second.path) is None
    assert_same_snapshot(second.path, build_snapshot(data_dir=stores, full=True).path)


def test_a_reader_of_a_pruned_snapshot_reads_on_until_it_closes(stores):
    """A session still showing the previous snapshot keeps its connection, with the segments attached, while
    a refresh prunes that snapshot and the segments only it named (they are gone for the next reader)."""
    first = build_snapshot(data_dir=stores, keep=1)
    named_before = segments_named(first.path)
    con = open_snapshot(first.path)
    try:
        before = con.sql("SELECT count(*), count(DISTINCT ticket_id) FROM tickets").fetchall()
        tickets = stores / "demo" / "helpdesk" / "tickets.csv"
        lines = tickets.read_text(encoding="utf-8").splitlines(keepends=True)
        tickets.write_text("".join(lines[:-1]), encoding="utf-8")
        build_snapshot(data_dir=stores, keep=1)
        assert not first.path.exists()
        old_tickets = next(name for name in named_before if name.startswith("tickets-"))
        assert not (stores / "snapshots" / SEGMENTS / old_tickets).exists()
        assert con.sql("SELECT count(*), count(DISTINCT ticket_id) FROM tickets").fetchall() == before
    finally:
        con.close()


def test_every_derived_group_is_made_and_in_the_order_it_is_listed():
    """derive runs the SQL files of MADE_IN_ORDER; a derived group missing there would never be made (and a
    refresh would find its tables missing), one out of order would read a table not made yet."""
    from dashboard.build import reuse
    from dashboard.build.derive import MADE_IN_ORDER

    assert [name for name in MADE_IN_ORDER if name in reuse.DERIVED] == list(reuse.DERIVED)
    # The view over the retention parts comes after both parts and before anything that reads it.
    place = {name: i for i, name in enumerate(MADE_IN_ORDER)}
    view = place["build_retention_records"]
    assert place["build_retention_helpdesk"] < view and place["build_retention_billing"] < view
    assert view < place["build_retention_figures"] and view < place["build_holds"]
