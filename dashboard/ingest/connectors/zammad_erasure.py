"""Erasure proof from Zammad: its data privacy tasks, kept in a ledger after Zammad forgets them.

Facts from zammad/zammad (app/models/data_privacy_task.rb, db/migrate/20120101000001_create_base.rb):

- Deleting a customer (or, in newer versions, a ticket) in the admin UI's "Datenschutz" panel, or by a
  scheduler job's "data privacy deletion task" action, creates a ``data_privacy_tasks`` row:
  ``deletable_type`` User or Ticket, ``deletable_id`` its id, ``state`` 'in process', then
  'completed' or 'failed' (``updated_at`` is when it ended). Deleting a customer deletes their tickets
  too, so the task is often all that is left to say it happened.
- Zammad deletes these tasks after 12 months (``DataPrivacyTask.cleanup``). Each read appends what is
  new or changed to an append-only ledger under ``DATA_DIR/state/deletion-ledger/`` and notes a task
  that is gone, so the proof outlives the helpdesk's own record (Art. 5(2)).
- ``preferences`` holds the deleted person's pseudonymised name and e-mail: never read. The snapshot
  matches a task to an erasure request by the Zammad user id the subject had in earlier snapshots
  (queries/build_erasure_proofs.sql), never by that name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from dashboard.ingest.config import TableSource
from dashboard.ingest.connectors import ledger
from dashboard.sqltext import identifier, literal

FEEDS = ("deletion_tasks",)
REQUIRES = {"deletion_tasks": {"data_privacy_tasks": ("id", "state", "deletable_type", "deletable_id",
                                                      "created_at", "updated_at")}}
FIELDS = {"task": ("task_id", "state", "deletable_type", "deletable_id", "created_at", "updated_at",
                   "observed_at"),
          "gone": ("task_id", "last_seen_at", "observed_at"),
          "read": ("observed_at",)}
STATES = {"in process": "in_process", "completed": "completed", "failed": "failed"}
RECORD_TYPES = {"User": "subject", "Ticket": "ticket"}


def ledger_path(state_dir: Path, source: str) -> Path:
    return state_dir / "deletion-ledger" / f"{source}.jsonl"


def stage(con, cur, ts: TableSource, target: str, schema: str) -> None:
    """Read every task, append what changed to the ledger, and stage each task the ledger knows in its
    latest state, also those Zammad has deleted since."""
    zone = literal(ts.timezone)
    cur.execute(f"""
        SELECT id::text, state, deletable_type, deletable_id::text,
               created_at AT TIME ZONE {zone}, updated_at AT TIME ZONE {zone}
        FROM {identifier(schema)}.data_privacy_tasks ORDER BY id""")
    current = [{"task_id": r[0], "state": r[1], "deletable_type": r[2], "deletable_id": r[3],
                "created_at": r[4].isoformat(), "updated_at": r[5].isoformat()} for r in cur.fetchall()]
    known = record(ledger_path(ts.state_dir, ts.source), current, dt.datetime.now(dt.UTC))
    if known.damaged:  # the readable history still counts; each bad line is a finding
        con.executemany(f"INSERT INTO {target}_findings VALUES (?, ?, ?)",
                        [(ts.source, "deletion_ledger_damaged", problem) for problem in known.damaged])
    con.register("_deletion_tasks", _frame(ts, latest(known.entries)))
    try:
        con.execute(f"CREATE TEMP TABLE {target} AS SELECT * FROM _deletion_tasks")
    finally:
        con.unregister("_deletion_tasks")


def record(path: Path, current: list[dict], observed_at: dt.datetime) -> ledger.Ledger:
    """Append the tasks that are new or changed since the ledger last saw them, a ``gone`` line for each
    task Zammad no longer has, and a read marker; return the whole ledger. A damaged ledger gets nothing
    appended and is returned as read."""
    known = ledger.read(path, FIELDS)
    if known.damaged:
        return known
    entries = known.entries
    last: dict[str, dict] = {}
    for entry in entries:
        if entry["kind"] in ("task", "gone"):
            last[entry["task_id"]] = entry
    reads = [e["observed_at"] for e in entries if e["kind"] == "read"]
    seen = observed_at.isoformat()
    new: list[dict] = []
    present = set()
    for task in current:
        present.add(task["task_id"])
        before = last.get(task["task_id"])
        if before is None or before["kind"] == "gone" or any(before[k] != task[k] for k in task):
            new.append({"kind": "task", **task, "observed_at": seen})
    for task_id, entry in last.items():
        if entry["kind"] == "task" and task_id not in present:
            new.append({"kind": "gone", "task_id": task_id, "last_seen_at": reads[-1] if reads else seen,
                        "observed_at": seen})
    new.append({"kind": "read", "observed_at": seen})
    for offset, entry in enumerate(new, len(entries) + 1):
        entry["seq"] = offset
    ledger.append(path, new)
    return ledger.Ledger(entries + new)


def latest(entries: list[dict]) -> list[dict]:
    """Each task in its last recorded state; ``last_seen_at`` only for a task Zammad no longer has (the
    last read that found it there)."""
    tasks: dict[str, dict] = {}
    for entry in entries:
        if entry["kind"] == "task":
            tasks[entry["task_id"]] = {**entry, "last_seen_at": None}
        elif entry["kind"] == "gone" and entry["task_id"] in tasks:
            tasks[entry["task_id"]]["last_seen_at"] = entry["last_seen_at"]
    return list(tasks.values())


def _frame(ts: TableSource, tasks: list[dict]) -> pl.DataFrame:
    """Tasks as canonical ``deletion_tasks`` rows. A state or type this version does not know is passed
    on as read, so validation sets the row aside with its reason instead of losing it."""
    def moment(value: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC) if value else None

    return pl.DataFrame({
        "task_id": [t["task_id"] for t in tasks],
        "system": ["helpdesk"] * len(tasks),
        "source": [ts.source] * len(tasks),
        "record_type": [RECORD_TYPES.get(t["deletable_type"], t["deletable_type"]) for t in tasks],
        "record_id": [t["deletable_id"] for t in tasks],
        "state": [STATES.get(t["state"], t["state"]) for t in tasks],
        "created_at": [moment(t["created_at"]) for t in tasks],
        "completed_at": [moment(t["updated_at"]) if t["state"] == "completed" else None for t in tasks],
        "last_seen_at": [moment(t["last_seen_at"]) for t in tasks],
    }, schema={"task_id": pl.String, "system": pl.String, "source": pl.String, "record_type": pl.String,
               "record_id": pl.String, "state": pl.String, "created_at": pl.Datetime("us", "UTC"),
               "completed_at": pl.Datetime("us", "UTC"), "last_seen_at": pl.Datetime("us", "UTC")})
