"""The audit trail: every export, failed export and download, kept so that it cannot be rewritten silently.

The trail is a table in the job store (``DATA_DIR/state/jobs.sqlite``). Each entry carries an HMAC-SHA256
over the previous entry's hash and its own content, keyed with a secret kept outside ``DATA_DIR``
(``DASHBOARD_AUDIT_KEY``, else a 0600 file ``audit.key`` created on first use in the audit folder), so
whoever can write the job store cannot re-chain an edited entry. After each entry its number and hash are
appended to an anchor file in the audit folder, one per trail: cutting off the newest entries, deleting
the store or blanking hashes shows in ``verify``, which opens the trail read-only (a copy can be checked
the same way). The audit folder is ``DASHBOARD_AUDIT_DIR``, else ``$XDG_CONFIG_HOME/dsgvo-cockpit``
(``~/.config/dsgvo-cockpit``): a fresh installation works without configuration.

Entries written before the trail was keyed (plain SHA-256 chain, or no hash at all) stay readable and are
checked as before, up to the first anchored entry; from it on every entry must carry its HMAC.

Plain Python, no Streamlit import: the app, the CLI and an auditor's script use it alike.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dashboard import paths

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, kind TEXT NOT NULL, job_id TEXT, params TEXT, rows INTEGER, sha256 TEXT,
    prev_hash TEXT, hash TEXT
);
-- Append-only for the app: it adds entries, never changes or removes them (the HMAC chain and the
-- anchor show it when someone else does).
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
COLUMNS = "seq, at, user, role, action, kind, job_id, params, rows, sha256"
KEY_ENV = "DASHBOARD_AUDIT_KEY"


def folder() -> Path:
    """Where the key file and the anchors live: outside ``DATA_DIR``."""
    configured = os.environ.get("DASHBOARD_AUDIT_DIR", "").strip()
    if configured:
        return Path(configured)
    config = os.environ.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(config) / "dsgvo-cockpit"


def key_file() -> Path:
    return folder() / "audit.key"


def key_source() -> str:
    """Where the key comes from, for ``status`` (never the key)."""
    return f"environment variable {KEY_ENV}" if os.environ.get(KEY_ENV) else str(key_file())


def key(create: bool = True) -> bytes:
    """``DASHBOARD_AUDIT_KEY``, else the key file (created 0600 with 32 random bytes on first use; a
    check creates none: without a key no entry can verify)."""
    configured = os.environ.get(KEY_ENV, "")
    if configured:
        return configured.encode("utf-8")
    path = key_file()
    if not path.is_file():
        if not create:
            return b""
        paths.private_dir(path.parent)
        with contextlib.suppress(FileExistsError):  # another process made it first: read theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def anchor_file(trail: Path) -> Path:
    """The anchor of the trail at ``trail`` (one per trail, named after its resolved path)."""
    return folder() / f"anchor-{hashlib.sha256(str(trail.resolve()).encode()).hexdigest()[:16]}.log"


def _keyed(secret: bytes, prev: str | None, entry: tuple) -> str:
    return hmac.new(secret, json.dumps([prev, *entry], ensure_ascii=False).encode("utf-8"), "sha256").hexdigest()


def _plain(prev: str | None, entry: tuple) -> str:
    """The chain of trails written before keying (anyone could recompute it)."""
    return hashlib.sha256(json.dumps([prev, *entry], ensure_ascii=False).encode("utf-8")).hexdigest()


def _anchored(anchor: Path) -> dict[int, str]:
    """Every anchored entry: number -> hash."""
    try:
        lines = anchor.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    found = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            found[int(parts[0])] = parts[1]
    return found


@dataclass(frozen=True)
class AuditCheck:
    intact: bool
    chained: int  # entries verified with the key
    legacy: int  # entries from before keying (checked as they were written)
    broken_at: int | None  # the first entry that does not verify
    reason: str = ""

    def describe(self) -> str:
        older = f" ({self.legacy} older entries from before keying)" if self.legacy else ""
        if self.intact:
            return f"audit trail intact: {self.chained} entries chained and anchored{older}"
        where = f" at entry {self.broken_at}" if self.broken_at is not None else ""
        return (f"audit trail BROKEN{where}: {self.reason} ({self.chained} entries before it verified){older}")


class AuditTrail:
    """The trail in the SQLite file at ``path`` (shared with the job store)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def create(self, db: sqlite3.Connection) -> None:
        db.executescript(SCHEMA)
        have = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
        for name in ("prev_hash", "hash"):  # stores from before the chain
            if name not in have:
                db.execute(f"ALTER TABLE audit ADD COLUMN {name} TEXT")

    def record(self, db: sqlite3.Connection, user: str, role: str, action: str, kind: str, job_id: str | None,
               params: str, rows: int | None, sha256: str | None) -> None:
        """Append an entry chained to the previous one, then anchor it (``db``: the store's connection)."""
        secret = key()
        db.execute("BEGIN IMMEDIATE")
        try:
            last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, None)
            at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            entry = (seq, at, user, role, action, kind, job_id, params, rows, sha256)
            digest = _keyed(secret, prev, entry)
            db.execute(f"INSERT INTO audit ({COLUMNS}, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (*entry, prev, digest))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        anchor = anchor_file(self.path)
        paths.private_dir(anchor.parent)
        fd = os.open(anchor, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(f"{seq} {digest}\n")

    @contextlib.contextmanager
    def _read_only(self) -> Iterator[sqlite3.Connection]:
        """Read-only; a file nobody has open (a copy, a closed store: no -wal beside it) also as immutable,
        so that reading it writes no -wal or -shm file beside it either."""
        in_use = self.path.with_name(self.path.name + "-wal").exists()
        db = sqlite3.connect(f"file:{self.path}?mode=ro{'' if in_use else '&immutable=1'}", uri=True, timeout=30)
        try:
            yield db
        finally:
            db.close()

    def verify(self, anchor: Path | None = None) -> AuditCheck:
        """Recompute the chain from the file, opened read-only, and hold it against the anchor (by default
        the anchor of the trail at this path; give the live trail's to check a copy)."""
        anchored = _anchored(anchor or anchor_file(self.path))
        if not self.path.is_file():
            if anchored:
                return AuditCheck(False, 0, 0, None, f"the trail {self.path} is gone, but {len(anchored)} "
                                                     "entries were anchored")
            return AuditCheck(True, 0, 0, None)
        with self._read_only() as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            rows = db.execute(f"SELECT {COLUMNS}, prev_hash, hash FROM audit ORDER BY seq").fetchall() \
                if "audit" in tables else []
        secret = key(create=False)
        first_anchored = min(anchored) if anchored else None
        prev, legacy, chained, plain = None, 0, 0, 0
        for row in rows:
            seq, entry, prev_hash, digest = row[0], tuple(row[:10]), row[10], row[11]
            if prev_hash == prev and digest is not None and hmac.compare_digest(digest, _keyed(secret, prev, entry)):
                if seq in anchored and anchored[seq] != digest:
                    return AuditCheck(False, chained, legacy, seq, "it differs from the anchored entry")
                prev, chained = digest, chained + 1
                continue
            # Written before keying, checked as it was written: only before the first keyed entry.
            before_keying = chained == 0 and (first_anchored is None or seq < first_anchored)
            if before_keying and digest is None and plain == 0:
                legacy += 1
                continue
            if before_keying and prev_hash == prev and digest == _plain(prev, entry):
                prev, plain, legacy = digest, plain + 1, legacy + 1
                continue
            return AuditCheck(False, chained, legacy, seq, "it was changed, replaced or removed after it was written")
        if chained and not anchored:
            return AuditCheck(False, chained, legacy, None, "keyed entries without an anchor (the anchor file "
                                                            "was removed)")
        newest = rows[-1][0] if rows else 0
        if anchored and max(anchored) > newest:
            return AuditCheck(False, chained, legacy, newest + 1,
                              f"{max(anchored) - newest} anchored entries are missing (cut off after entry {newest})")
        return AuditCheck(True, chained, legacy, None)

    def users(self) -> list[str]:
        with self._read_only() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT user FROM audit ORDER BY user").fetchall()]

    def entries(self, user: str | None = None, kind: str | None = None, since: str | None = None,
                limit: int | None = None) -> list[dict]:
        clauses, args = [], []
        for column, value, op in (("user", user, "="), ("kind", kind, "="), ("at", since, ">=")):
            if value:
                clauses.append(f"{column} {op} ?")
                args.append(value)
        sql = (f"SELECT {COLUMNS} FROM audit" + (" WHERE " + " AND ".join(clauses) if clauses else "")
               + " ORDER BY seq DESC")
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._read_only() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, args).fetchall()]
