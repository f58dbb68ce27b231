"""The consent ledger: a history for stores that keep only the current state (listmonk).

listmonk overwrites a subscription's ``updated_at`` on confirm and on unsubscribe and keeps no
history, so after an unsubscribe the proof of the earlier double opt-in is gone. Each build compares
the store's current state with the last state the ledger knows and appends the change as events:
requested at ``created_at``; confirmed, granted (single opt-in) or withdrawn at ``updated_at``, with
the opt-in IP when the store recorded one.

The ledger is an append-only JSON Lines file under ``DATA_DIR/state/`` (it outlives snapshot
pruning and holds personal data, so it is private). Events the ledger did not see happen are marked
``inferred`` (weaker proof): everything it finds at its first read, and any subscription older than
its previous read. A change that happens and is undone between two reads is not seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from dashboard.ingest.connectors import ledger
from dashboard.ingest.connectors.ledger import Ledger

FIELDS = {"event": ("subscriber_id", "list_id", "status", "action", "occurred_at", "inferred"),
          "read": ("observed_at",)}


@dataclass(frozen=True)
class Subscription:
    """One subscription as the store holds it now."""

    subscriber_id: str
    list_id: str
    optin: str  # "single" | "double"
    status: str  # "unconfirmed" | "confirmed" | "unsubscribed"
    created_at: dt.datetime
    updated_at: dt.datetime
    optin_ip: str | None = None


def changes(previous: str | None, sub: Subscription) -> list[tuple[str, dt.datetime, str | None]]:
    """The events (action, when, opt-in IP) that take a subscription from the ``previous`` status the
    ledger knows (None: never seen) to its current one."""
    double = sub.optin == "double"
    if previous == sub.status:
        return []
    if sub.status == "unsubscribed":
        return [("withdrawn", sub.updated_at, None)]
    if not double:  # single opt-in: unconfirmed and confirmed both mean subscribed
        return [] if previous in ("unconfirmed", "confirmed") else [
            ("granted", sub.created_at if previous is None else sub.updated_at, None)]
    if previous is None:
        events = [("requested", sub.created_at, None)]
        return events + ([("confirmed", sub.updated_at, sub.optin_ip)] if sub.status == "confirmed" else [])
    if sub.status == "confirmed":
        return [("confirmed", sub.updated_at, sub.optin_ip)]
    return [("requested", sub.updated_at, None)]  # unconfirmed again: a new opt-in request


def read(path: Path) -> Ledger:
    """Every readable line of the consent ledger (``ledger.read``)."""
    return ledger.read(path, FIELDS)


def record(path: Path, current: list[Subscription], observed_at: dt.datetime) -> Ledger:
    """Append what changed since the last read (and a read marker); return the whole ledger. A damaged
    ledger gets nothing appended (its history is not known for sure) and is returned as read."""
    known_ledger = read(path)
    if known_ledger.damaged:
        return known_ledger
    entries = known_ledger.entries
    reads = [e["observed_at"] for e in entries if e["kind"] == "read"]
    last_read = dt.datetime.fromisoformat(reads[-1]) if reads else None
    known = {(e["subscriber_id"], e["list_id"]): e["status"] for e in entries if e["kind"] == "event"}
    new = []
    for sub in current:
        previous = known.get((sub.subscriber_id, sub.list_id))
        # Seen happening: a change since the last read, or a subscription created after it.
        witnessed = last_read is not None and (previous is not None or sub.created_at > last_read)
        for action, at, ip in changes(previous, sub):
            new.append({"kind": "event", "seq": len(entries) + len(new) + 1, "subscriber_id": sub.subscriber_id,
                        "list_id": sub.list_id, "status": sub.status, "action": action,
                        "occurred_at": at.isoformat(), "optin_ip": ip, "inferred": not witnessed,
                        "observed_at": observed_at.isoformat()})
    new.append({"kind": "read", "seq": len(entries) + len(new) + 1, "observed_at": observed_at.isoformat()})
    ledger.append(path, new)
    return Ledger(entries + new)


def ledger_path(state_dir: Path, source: str) -> Path:
    return state_dir / "consent-ledger" / f"{source}.jsonl"
