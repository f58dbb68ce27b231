"""The consent ledger keeps the history a state-only store (listmonk) does not."""

from __future__ import annotations

import datetime as dt

from dashboard.ingest.connectors.consent_ledger import Subscription, changes, read, record

T0 = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 5, 1, 10, 5, tzinfo=dt.UTC)


def _sub(status: str, optin: str = "double", updated: dt.datetime = T1, ip: str | None = None) -> Subscription:
    return Subscription("7", "1", optin, status, T0, updated, ip)


def test_changes_from_each_known_state():
    assert changes(None, _sub("unconfirmed")) == [("requested", T0, None)]
    assert changes(None, _sub("confirmed", ip="198.51.100.1")) == [("requested", T0, None),
                                                                  ("confirmed", T1, "198.51.100.1")]
    assert changes(None, _sub("unsubscribed")) == [("withdrawn", T1, None)]
    assert changes("unconfirmed", _sub("confirmed")) == [("confirmed", T1, None)]
    assert changes("confirmed", _sub("unsubscribed")) == [("withdrawn", T1, None)]
    assert changes("unsubscribed", _sub("unconfirmed")) == [("requested", T1, None)]  # subscribed again
    assert changes("confirmed", _sub("confirmed")) == []
    # Single opt-in: subscribed is granted, whether listmonk says unconfirmed or confirmed.
    assert changes(None, _sub("unconfirmed", "single")) == [("granted", T0, None)]
    assert changes("unconfirmed", _sub("confirmed", "single")) == []
    assert changes("unsubscribed", _sub("confirmed", "single")) == [("granted", T1, None)]


def test_record_appends_only_changes_and_marks_what_it_did_not_see(tmp_path):
    path = tmp_path / "state" / "ledger.jsonl"
    first = record(path, [_sub("confirmed", ip="198.51.100.1")], dt.datetime(2026, 6, 1, tzinfo=dt.UTC)).entries
    assert [(e["action"], e["inferred"]) for e in first if e["kind"] == "event"] == [
        ("requested", True), ("confirmed", True)]
    later = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    fresh = Subscription("8", "1", "double", "unconfirmed", dt.datetime(2026, 6, 15, tzinfo=dt.UTC), later)
    second = record(path, [_sub("unsubscribed", updated=later), fresh], dt.datetime(2026, 7, 2, tzinfo=dt.UTC)).entries
    events = [(e["subscriber_id"], e["action"], e["inferred"]) for e in second if e["kind"] == "event"]
    assert events == [("7", "requested", True), ("7", "confirmed", True), ("7", "withdrawn", False),
                      ("8", "requested", False)]
    assert record(path, [_sub("unsubscribed", updated=later), fresh],
                  dt.datetime(2026, 7, 3, tzinfo=dt.UTC)).entries[-1]["kind"] == "read"  # nothing new: a read marker
    assert len(read(path).entries) == len(second) + 1
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_line_cut_off_by_a_crash_is_dropped(tmp_path):
    path = tmp_path / "ledger.jsonl"
    record(path, [_sub("confirmed")], T1)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"kind": "eve')
    assert len(read(path).entries) == 3 and path.read_bytes() == whole


def test_damaged_lines_are_named_and_nothing_is_appended(tmp_path):
    """A corrupt line in the middle, or one without 'kind', no longer stops the build: the
    readable history is used, each damaged line is named, and nothing is appended until it is mended."""
    path = tmp_path / "ledger.jsonl"
    record(path, [_sub("confirmed")], T1)
    lines = path.read_bytes().splitlines(keepends=True)
    no_kind = b'{"seq": 9, "observed_at": "2026-05-02T00:00:00+00:00"}\n'
    damaged = lines[0] + b"not json\n" + no_kind + b"".join(lines[1:])
    path.write_bytes(damaged)
    ledger = record(path, [_sub("unsubscribed", updated=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))], T1)
    assert ledger.damaged == ("line 2: not valid JSON", "line 3: has no 'kind'")
    assert [e["action"] for e in ledger.entries if e["kind"] == "event"] == ["requested", "confirmed"]
    assert path.read_bytes() == damaged  # nothing appended to a ledger whose history is not whole
