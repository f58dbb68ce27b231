"""Export jobs: a SQLite job store, an append-only audit trail, and a worker pool.

The store lives in ``DASHBOARD_DATA_DIR/state/jobs.sqlite`` so jobs outlive the page (and the
process) that started them. The Streamlit server holds one ``JobRunner`` for all sessions; the CLI
runs the same ``execute`` in its own process. Worker threads never touch Streamlit: a page reads a
job's progress from the store. Plain Python, no Streamlit import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dashboard import access, paths

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "succeeded", "failed", "expired")
DEFAULT_TTL = dt.timedelta(days=7)


def export_ttl() -> dt.timedelta:
    """How long export files are kept: ``DASHBOARD_EXPORT_TTL_DAYS`` (default 7 days)."""
    raw = os.environ.get("DASHBOARD_EXPORT_TTL_DAYS")
    if not raw:
        return DEFAULT_TTL
    try:
        days = float(raw)
    except ValueError:
        raise ValueError(f"DASHBOARD_EXPORT_TTL_DAYS={raw!r}: expected a number of days") from None
    if days <= 0:
        raise ValueError(f"DASHBOARD_EXPORT_TTL_DAYS={raw!r}: expected more than 0 days")
    return dt.timedelta(days=days)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL,
    requested_by TEXT NOT NULL, role TEXT NOT NULL,
    status TEXT NOT NULL, progress INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, expires_at TEXT,
    rows INTEGER, file TEXT, size INTEGER, sha256 TEXT, error TEXT, owner_pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, kind TEXT NOT NULL, job_id TEXT, params TEXT, rows INTEGER, sha256 TEXT
);
-- Append-only: the app can add entries, never change or remove them.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _encode(value):
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} in job parameters")


def _decode(obj: dict):
    if "__datetime__" in obj:
        return dt.datetime.fromisoformat(obj["__datetime__"])
    if "__date__" in obj:
        return dt.date.fromisoformat(obj["__date__"])
    return obj


def dumps(params: dict) -> str:
    return json.dumps(params, default=_encode, sort_keys=True, ensure_ascii=False)


def loads(text: str) -> dict:
    return json.loads(text, object_hook=_decode)


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    params: dict
    requested_by: str
    role: str
    status: str
    progress: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    expires_at: str | None
    rows: int | None
    file: str | None
    size: int | None
    sha256: str | None
    error: str | None

    @property
    def path(self) -> Path | None:
        return Path(self.file) if self.file else None


class JobStore:
    """Jobs and the audit trail in one SQLite file; safe across threads and processes."""

    def __init__(self, path: Path | None = None, exports_dir: Path | None = None):
        self.path = Path(path or paths.data_dir() / "state" / "jobs.sqlite")
        self.exports_dir = Path(exports_dir or self.path.parent.parent / "exports")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.exports_dir.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    # --- jobs --------------------------------------------------------------------------------

    def create(self, kind: str, params: dict, user: str, role: str) -> Job:
        """A queued job; the role is checked here, whoever calls (page, CLI or test)."""
        access.check_export(role, kind)
        job_id = uuid.uuid4().hex[:16]
        with self._db() as db:
            db.execute("INSERT INTO jobs (id, kind, params, requested_by, role, status, created_at, owner_pid) "
                       "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                       (job_id, kind, dumps(params), user, role, _now(), os.getpid()))
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"no job {job_id!r}")
        return self._job(row)

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        values = dict(row)
        values.pop("owner_pid", None)
        values["params"] = loads(values["params"])
        return Job(**values)

    def list(self, user: str | None = None, limit: int = 200) -> list[Job]:
        """Newest first; ``user`` None lists everybody's (for the DPO)."""
        sql = "SELECT * FROM jobs" + (" WHERE requested_by = ?" if user is not None else "")
        with self._db() as db:
            rows = db.execute(sql + " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                              ((user,) if user is not None else ()) + (limit,)).fetchall()
        return [self._job(r) for r in rows]

    def visible_to(self, job: Job, user: str, role: str) -> bool:
        """A user sees their own jobs; the DPO sees all."""
        return access.sees_all_jobs(role) or job.requested_by == user

    def output_path(self, job: Job, filename: str) -> Path:
        """Where a job writes: a folder per job id (generated here, never taken from a browser)."""
        folder = self.exports_dir / job.id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / Path(filename).name

    def start(self, job_id: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'running', started_at = ?, progress = 0, owner_pid = ?, "
                       "error = NULL WHERE id = ?", (_now(), os.getpid(), job_id))

    def progress(self, job_id: str, percent: int) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET progress = ? WHERE id = ?", (max(0, min(100, int(percent))), job_id))

    def succeed(self, job_id: str, file: Path, rows: int, ttl: dt.timedelta | None = None) -> Job:
        digest = _sha256(file)
        ttl = ttl or export_ttl()
        finished = dt.datetime.now(dt.UTC)
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'succeeded', progress = 100, finished_at = ?, expires_at = ?, "
                       "rows = ?, file = ?, size = ?, sha256 = ? WHERE id = ?",
                       (finished.isoformat(timespec="seconds"), (finished + ttl).isoformat(timespec="seconds"),
                        rows, str(file), file.stat().st_size, digest, job_id))
        job = self.get(job_id)
        self.audit(job.requested_by, job.role, "export", job.kind, job.id, job.params, rows, digest)
        return job

    def fail(self, job_id: str, error: str) -> Job:
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                       (_now(), error, job_id))
        job = self.get(job_id)
        self._remove_files(job)
        self.audit(job.requested_by, job.role, "export_failed", job.kind, job.id, job.params, None, None)
        return job

    def _remove_files(self, job: Job) -> None:
        shutil.rmtree(self.exports_dir / job.id, ignore_errors=True)

    def recover_interrupted(self) -> list[str]:
        """Jobs left running (or queued) by a process that is gone: failed, partial files removed.

        Jobs of live processes (this one, or a CLI export running beside the server) are left alone.
        """
        with self._db() as db:
            rows = db.execute("SELECT id, owner_pid, status FROM jobs WHERE status IN ('running', 'queued')").fetchall()
        lost = [r["id"] for r in rows if r["owner_pid"] is None or not _alive(r["owner_pid"])]
        for job_id in lost:
            self.fail(job_id, "interrupted by restart")
        return lost

    def sweep(self, now: dt.datetime | None = None) -> list[str]:
        """Delete the files of jobs past their expiry; the job record stays, marked expired."""
        stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        with self._db() as db:
            ids = [r["id"] for r in db.execute(
                "SELECT id FROM jobs WHERE status = 'succeeded' AND expires_at <= ?", (stamp,)).fetchall()]
        for job_id in ids:
            self._remove_files(self.get(job_id))
            with self._db() as db:
                db.execute("UPDATE jobs SET status = 'expired', file = NULL WHERE id = ?", (job_id,))
        return ids

    # --- audit trail -------------------------------------------------------------------------

    def audit(self, user: str, role: str, action: str, kind: str, job_id: str | None = None,
              params: dict | None = None, rows: int | None = None, sha256: str | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT INTO audit (at, user, role, action, kind, job_id, params, rows, sha256) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (_now(), user, role, action, kind, job_id, dumps(params or {}), rows, sha256))

    def audit_users(self) -> list[str]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT user FROM audit ORDER BY user").fetchall()]

    def audit_entries(self, user: str | None = None, kind: str | None = None, since: str | None = None,
                      limit: int | None = None) -> list[dict]:
        clauses, args = [], []
        for column, value, op in (("user", user, "="), ("kind", kind, "="), ("at", since, ">=")):
            if value:
                clauses.append(f"{column} {op} ?")
                args.append(value)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY seq DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._db() as db:
            return [dict(r) for r in db.execute(sql, args).fetchall()]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


Executor = Callable[[Job, JobStore, Callable[[int], None]], tuple[Path, int]]


def execute(store: JobStore, job_id: str, run: Executor | None = None) -> Job:
    """Run one job to its end (succeeded or failed with the reason); the one path for app and CLI."""
    from dashboard import exports

    run = run or exports.run
    store.start(job_id)
    job = store.get(job_id)
    try:
        file, rows = run(job, store, lambda pct: store.progress(job_id, pct))
        return store.succeed(job_id, file, rows)
    except Exception as exc:  # a failed export says why, and keeps nothing half-written
        log.warning("export job %s (%s) failed: %s", job_id, job.kind, type(exc).__name__)
        return store.fail(job_id, _reason(exc))


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class JobRunner:
    """A small worker pool shared by every session of one server process."""

    def __init__(self, store: JobStore, workers: int = 2):
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        store.recover_interrupted()
        store.sweep()

    def submit(self, kind: str, params: dict, user: str, role: str) -> Job:
        job = self.store.create(kind, params, user, role)
        self.pool.submit(execute, self.store, job.id)
        return job

    def rerun(self, job: Job, user: str, role: str) -> Job:
        return self.submit(job.kind, job.params, user, role)
