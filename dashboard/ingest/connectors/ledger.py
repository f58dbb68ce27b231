"""Append-only JSON Lines ledgers under ``DATA_DIR/state/``: what a store forgets, kept.

listmonk keeps no consent history (consent_ledger.py) and Zammad deletes its deletion tasks after 12
months (zammad_erasure.py); each read appends what changed, so the proof outlives the store. A ledger
outlives snapshot pruning and may hold personal data (ids, IPs), so its folder and file are private.
Each line is one JSON object with a ``kind``; which fields each kind needs is the caller's.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from dashboard import paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ledger:
    """The ledger's readable entries, and what is wrong with the lines it could not use (by number).
    A damaged ledger is not appended to: what changed is recorded once it is mended, from a history
    that is whole again; until then the build uses what it can read and reports the rest."""

    entries: list[dict]
    damaged: tuple[str, ...] = ()


def _problem(entry: object, fields: dict[str, tuple[str, ...]]) -> str | None:
    """What makes a parsed line unusable, or None."""
    if not isinstance(entry, dict):
        return "not a JSON object"
    if "kind" not in entry:
        return "has no 'kind'"
    if entry["kind"] not in fields:
        return f"kind {str(entry['kind'])[:20]!r} is not one of {', '.join(fields)}"
    missing = [f for f in fields[entry["kind"]] if f not in entry]
    return f"{entry['kind']} without {', '.join(missing)}" if missing else None


def read(path: Path, fields: dict[str, tuple[str, ...]]) -> Ledger:
    """Every line of the ledger; ``fields``: kind -> the fields a line of that kind needs. A last line
    cut off by a crash is dropped (it was never complete); any other line that is not a whole entry is
    named in ``damaged`` and left in the file as it is."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Ledger([])
    lines = raw.split(b"\n")
    if lines[-1]:
        log.warning("ledger %s: dropping an incomplete last line", path.name)
        with open(path, "r+b") as fh:
            fh.truncate(len(raw) - len(lines[-1]))
    entries, damaged = [], []
    for number, line in enumerate(lines[:-1], 1):
        try:
            entry = json.loads(line)
        except ValueError:
            damaged.append(f"line {number}: not valid JSON")
            continue
        problem = _problem(entry, fields)
        if problem:
            damaged.append(f"line {number}: {problem}")
        else:
            entries.append(entry)
    if damaged:
        log.warning("ledger %s: %d damaged line(s), first %s", path.name, len(damaged), damaged[0])
    return Ledger(entries, tuple(damaged))


def append(path: Path, entries: list[dict]) -> None:
    """Write ``entries`` at the end of the ledger, synced to disk before the build goes on."""
    paths.private_dir(path.parent)
    with open(path, "a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    paths.private_file(path)
