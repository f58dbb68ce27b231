"""Export jobs: a SQLite job store (with the audit trail of ``dashboard.audit`` in the same file) and a
worker pool.

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
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dashboard import access, paths
from dashboard.audit import AuditCheck, AuditTrail
from dashboard.errors import DashboardError, first_line

log = logging.getLogger(__name__)

DEFAULT_TTL = dt.timedelta(days=7)
ACTIVE = ("queued", "running")
# At most this many queued or running exports per user; an identical one already running is reused.
MAX_ACTIVE_PER_USER = 3
# The job kind of a snapshot build started from the app ("Datenstand aktualisieren").
REFRESH = "snapshot"
# How often a server's runner deletes expired export files (also checked whenever a file is served).
SWEEP_EVERY = dt.timedelta(minutes=10)


class JobLimit(DashboardError):
    """The user has too many exports running; the message says how many."""

    label = "errors.export"


class DownloadRefused(DashboardError):
    """The file may not be served (any more): expired, removed, or the viewer's role no longer allows it."""

    label = "errors.export"


def export_ttl() -> dt.timedelta:
    """How long export files are kept: ``DASHBOARD_EXPORT_TTL_DAYS`` (default 7 days)."""
    raw = os.environ.get("DASHBOARD_EXPORT_TTL_DAYS")
    if not raw:
        return DEFAULT_TTL
    try:
        days = float(raw)
    except ValueError:
        raise DashboardError(f"DASHBOARD_EXPORT_TTL_DAYS={raw!r}: expected a number of days") from None
    if days <= 0:
        raise DashboardError(f"DASHBOARD_EXPORT_TTL_DAYS={raw!r}: expected more than 0 days")
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
        paths.private_dir(self.path.parent)
        paths.private_dir(self.exports_dir)
        self.trail = AuditTrail(self.path)
        with self._db() as db:
            db.executescript(SCHEMA)
            _add_columns(db, "jobs", {"owner_token": "TEXT"})
            self.trail.create(db)
        paths.private_file(self.path)

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
        return self.create_or_reuse(kind, params, user, role)[0]

    def create_or_reuse(self, kind: str, params: dict, user: str, role: str) -> tuple[Job, bool]:
        """(job, created): the user's identical queued or running job if there is one, else a new one;
        refused when the user already has ``MAX_ACTIVE_PER_USER`` exports under way."""
        access.check_export(role, kind, params)
        encoded = dumps(params)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            same = db.execute("SELECT id FROM jobs WHERE requested_by = ? AND role = ? AND kind = ? AND params = ? "
                              "AND status IN ('queued', 'running') ORDER BY created_at LIMIT 1",
                              (user, role, kind, encoded)).fetchone()
            if same is None:
                active = db.execute("SELECT count(*) FROM jobs WHERE requested_by = ? "
                                    "AND status IN ('queued', 'running')", (user,)).fetchone()[0]
                if active >= MAX_ACTIVE_PER_USER:
                    db.execute("ROLLBACK")
                    raise JobLimit(f"{active} exports are still running; please wait until one has finished")
                job_id = uuid.uuid4().hex[:16]
                db.execute("INSERT INTO jobs (id, kind, params, requested_by, role, status, created_at, owner_pid, "
                           "owner_token) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                           (job_id, kind, encoded, user, role, _now(), os.getpid(), _process_token(os.getpid())))
            db.execute("COMMIT")
        return (self.get(same["id"]), False) if same is not None else (self.get(job_id), True)

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
        values.pop("owner_token", None)
        values["params"] = loads(values["params"])
        return Job(**values)

    def create_refresh(self, user: str, role: str) -> tuple[Job, bool]:
        """(job, created): the snapshot build under way, whoever started it, or a new one. One build
        runs at a time; a second click shows the running one."""
        access.check_refresh(role)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            running = db.execute("SELECT id FROM jobs WHERE kind = ? AND status IN ('queued', 'running') "
                                 "ORDER BY created_at LIMIT 1", (REFRESH,)).fetchone()
            if running is None:
                job_id = uuid.uuid4().hex[:16]
                db.execute("INSERT INTO jobs (id, kind, params, requested_by, role, status, created_at, owner_pid, "
                           "owner_token) VALUES (?, ?, '{}', ?, ?, 'queued', ?, ?, ?)",
                           (job_id, REFRESH, user, role, _now(), os.getpid(), _process_token(os.getpid())))
            db.execute("COMMIT")
        return (self.get(running["id"]), False) if running is not None else (self.get(job_id), True)

    def latest(self, kind: str) -> Job | None:
        """The newest job of ``kind`` (whoever started it)."""
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE kind = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
                             (kind,)).fetchone()
        return self._job(row) if row is not None else None

    def list(self, user: str | None = None, limit: int = 200) -> list[Job]:
        """Exports, newest first; ``user`` None lists everybody's (for the DPO). Snapshot builds are
        not exports: the sidebar shows them."""
        sql = "SELECT * FROM jobs WHERE kind <> 'snapshot'" + (" AND requested_by = ?" if user is not None else "")
        with self._db() as db:
            rows = db.execute(sql + " ORDER BY created_at DESC, rowid DESC LIMIT ?",
                              ((user,) if user is not None else ()) + (limit,)).fetchall()
        return [self._job(r) for r in rows]

    def visible_to(self, job: Job, user: str, role: str) -> bool:
        """A user sees their own jobs; the DPO sees all."""
        return access.sees_all_jobs(role) or job.requested_by == user

    def output_path(self, job: Job, filename: str) -> Path:
        """Where a job writes: a folder per job id (generated here, never taken from a browser)."""
        return paths.private_dir(self.exports_dir / job.id) / Path(filename).name

    def start(self, job_id: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET status = 'running', started_at = ?, progress = 0, owner_pid = ?, "
                       "owner_token = ?, error = NULL WHERE id = ?",
                       (_now(), os.getpid(), _process_token(os.getpid()), job_id))

    def progress(self, job_id: str, percent: int) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET progress = ? WHERE id = ?", (max(0, min(100, int(percent))), job_id))

    def succeed(self, job_id: str, file: Path, rows: int, ttl: dt.timedelta | None = None) -> Job:
        paths.private_file(file)
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
            rows = db.execute("SELECT id, owner_pid, owner_token FROM jobs "
                              "WHERE status IN ('running', 'queued')").fetchall()
        lost = [r["id"] for r in rows if not _owner_alive(r["owner_pid"], r["owner_token"])]
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

    def offerable(self, job: Job, user: str, role: str) -> bool:
        """Whether a download of ``job`` may be offered to this viewer now: theirs (or the DPO's view),
        a kind and list their *current* role may export, finished and not expired."""
        return (self.visible_to(job, user, role) and job.status == "succeeded" and job.path is not None
                and access.may_export(role, job.kind, job.params.get("query") if job.kind == "list_csv" else None)
                and not expired(job) and job.path.is_file())

    def serve(self, job_id: str, user: str, role: str) -> bytes:
        """The bytes of a finished export, checked again when they are produced (current role, expiry)
        and audited right here: the one place a download's bytes come from."""
        job = self.get(job_id)
        if not self.offerable(job, user, role):
            if job.status == "succeeded" and expired(job):
                self.sweep()
            raise DownloadRefused(f"export {job_id} is not available to {role!r} (expired, removed or not allowed)")
        payload = job.path.read_bytes()
        self.audit(user, role, "download", job.kind, job.id, job.params, job.rows, job.sha256)
        return payload

    # --- audit trail (dashboard.audit) ---------------------------------------------------------

    def audit(self, user: str, role: str, action: str, kind: str, job_id: str | None = None,
              params: dict | None = None, rows: int | None = None, sha256: str | None = None) -> None:
        """Append an entry to the keyed, anchored audit trail."""
        with self._db() as db:
            self.trail.record(db, user, role, action, kind, job_id, dumps(params or {}), rows, sha256)

    def verify_audit(self) -> AuditCheck:
        return self.trail.verify()

    def audit_users(self) -> list[str]:
        return self.trail.users()

    def audit_entries(self, user: str | None = None, kind: str | None = None, since: str | None = None,
                      limit: int | None = None) -> list[dict]:
        return self.trail.entries(user=user, kind=kind, since=since, limit=limit)


def _add_columns(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Columns added since a store was created (older stores keep working)."""
    have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for name, type_ in columns.items():
        if name not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {type_}")


def expired(job: Job) -> bool:
    """The job's file is past its expiry (the sweep deletes it)."""
    return job.expires_at is not None and job.expires_at <= _now()


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


def _process_token(pid: int) -> str | None:
    """Which process (not only which id) owns a job: the boot and the process's start time, so an id
    reused after a restart (a container's pid 1 again) is not taken for the owner. None off Linux."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22: start time after boot


def _owner_alive(pid: int | None, token: str | None) -> bool:
    if pid is None or not _alive(pid):
        return False
    current = _process_token(pid)
    if token is None:
        # Written by a version that recorded no token, or where /proc gives none. Where tokens exist, a
        # live process with that id cannot be told from a later one that reused it: the job is not its.
        return current is None
    return current in (None, token)


Executor = Callable[[Job, JobStore, Callable[[int], None]], tuple[Path, int]]


def execute(store: JobStore, job_id: str, run: Executor | None = None) -> Job:
    """Run one job to its end (succeeded or failed with the reason); the one path for app and CLI."""
    from dashboard import exports, refresh

    store.start(job_id)
    job = store.get(job_id)
    run = run or (refresh.run if job.kind == REFRESH else exports.run)
    try:
        file, rows = run(job, store, lambda pct: store.progress(job_id, pct))
        return store.succeed(job_id, file, rows)
    except Exception as exc:  # a failed export says why, and keeps nothing half-written
        log.warning("export job %s (%s) failed: %s", job_id, job.kind, type(exc).__name__)
        return store.fail(job_id, first_line(exc, typed=True))


class JobRunner:
    """A small worker pool shared by every session of one server process; it also sweeps expired
    export files every ``SWEEP_EVERY`` while the server runs."""

    def __init__(self, store: JobStore, workers: int = 2, sweep_every: dt.timedelta = SWEEP_EVERY):
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        store.recover_interrupted()
        store.sweep()
        self._stop = threading.Event()
        threading.Thread(target=self._sweep_loop, args=(sweep_every.total_seconds(),), daemon=True,
                         name="export-sweep").start()

    def _sweep_loop(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                self.store.sweep()
            except Exception:  # noqa: BLE001 - a failed sweep is retried at the next tick; the serve check holds
                log.warning("export sweep failed; retried in %.0f s", seconds)

    def submit(self, kind: str, params: dict, user: str, role: str) -> Job:
        """Start an export, or hand back the user's identical one that is still under way."""
        job, created = self.store.create_or_reuse(kind, params, user, role)
        if created:
            self.pool.submit(execute, self.store, job.id)
        return job

    def refresh(self, user: str, role: str) -> Job:
        """Start a snapshot build in the background, or hand back the one under way."""
        job, created = self.store.create_refresh(user, role)
        if created:
            self.pool.submit(execute, self.store, job.id)
        return job

    def rerun(self, job: Job, user: str, role: str) -> Job:
        return self.submit(job.kind, job.params, user, role)

    def run_now(self, kind: str, params: dict, user: str, role: str) -> bytes:
        """A short export made and served at once, in the caller's thread: the same job record, file
        and audit entries as a background job (export, then download), without the second click."""
        job = execute(self.store, self.store.create(kind, params, user, role).id)
        if job.status != "succeeded":
            raise DashboardError(job.error or "export failed")
        return self.store.serve(job.id, user, role)
