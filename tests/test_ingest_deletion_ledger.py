"""The deletion ledger keeps Zammad's deletion tasks after Zammad removes them."""

from __future__ import annotations

import datetime as dt

from dashboard.ingest.connectors.zammad_erasure import latest, record

READ_1 = dt.datetime(2026, 11, 1, 3, tzinfo=dt.UTC)
READ_2 = dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC)
READ_3 = dt.datetime(2026, 11, 3, 3, tzinfo=dt.UTC)


def _task(task_id: str, state: str, updated: str = "2026-10-31T10:01:00+00:00") -> dict:
    return {"task_id": task_id, "state": state, "deletable_type": "User", "deletable_id": "5",
            "created_at": "2026-10-31T10:00:00+00:00", "updated_at": updated}


def test_a_task_is_appended_when_new_or_changed_and_kept_when_gone(tmp_path):
    path = tmp_path / "deletion-ledger" / "helpdesk.jsonl"
    record(path, [_task("1", "in process")], READ_1)
    record(path, [_task("1", "in process")], READ_2)  # unchanged: only a read marker
    entries = record(path, [], READ_3).entries  # Zammad removed it
    assert [(e["kind"], e.get("task_id"), e["seq"]) for e in entries] == [
        ("task", "1", 1), ("read", None, 2), ("read", None, 3), ("gone", "1", 4), ("read", None, 5)]
    assert entries[3]["last_seen_at"] == READ_2.isoformat()  # the last read that found it
    assert latest(entries) == [{**entries[0], "last_seen_at": READ_2.isoformat()}]


def test_a_state_change_is_a_new_line_and_the_latest_state_counts(tmp_path):
    path = tmp_path / "ledger.jsonl"
    record(path, [_task("1", "in process")], READ_1)
    entries = record(path, [_task("1", "completed", "2026-11-01T04:00:00+00:00")], READ_2).entries
    assert [e["state"] for e in entries if e["kind"] == "task"] == ["in process", "completed"]
    assert [(t["state"], t["last_seen_at"]) for t in latest(entries)] == [("completed", None)]


def test_a_damaged_ledger_is_read_as_far_as_it_goes_and_not_appended_to(tmp_path):
    path = tmp_path / "ledger.jsonl"
    record(path, [_task("1", "completed")], READ_1)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"kind": "task", "task_id": "2"}\n')
    size = path.stat().st_size
    known = record(path, [_task("1", "completed"), _task("3", "failed")], READ_2)
    assert known.damaged == ("line 3: task without state, deletable_type, deletable_id, created_at, updated_at, "
                             "observed_at",)
    assert [t["task_id"] for t in latest(known.entries)] == ["1"] and path.stat().st_size == size
