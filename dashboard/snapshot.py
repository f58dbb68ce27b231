"""The snapshot store: where snapshots live, which one is live, and how a new one is published.

A snapshot is one DuckDB file, ``snapshot-<UTC time>.duckdb``, in ``DATA_DIR/snapshots/``; the small file
``CURRENT`` names the live one. Its large tables live apart, in *segments*: immutable files in
``snapshots/segments/``, one per table (or derived group) and fingerprint, shared by every snapshot made
from the same data (sqlmesh's virtual layer). The snapshot holds a view over each and names the files in
``snapshot_segments``; ``connect`` attaches them. A refresh thus writes only what changed.

Publishing is atomic: a build (``dashboard.build``) writes a hidden temporary file, ``publish`` fsyncs
it (and the new segments), renames it to its versioned name and only then switches the pointer;
``discard`` removes what a failed build left, so the previous snapshot stays live. Old versions are
pruned (they hold personal data), and with them every segment no kept snapshot names. Readers key their
connections by the versioned file name, because DuckDB hands a process its already-open database for a
path it has seen before.

Pages import this module, never the builder: reading a snapshot needs none of the ingest stack.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dashboard import paths
from dashboard.errors import first_line
from dashboard.sqltext import identifier, literal

POINTER = "CURRENT"
PREFIX = "snapshot-"
SEGMENTS = "segments"  # the folder, beside the snapshots, of the files their large tables live in

# The layout of the tables and macros the queries rely on; queries/build_layout.sql declares the
# snapshot's own tables and says what each layout version changed. Raise it whenever a build writes
# something the queries of this version need: an older snapshot is then rebuilt, not misread.
LAYOUT = 13


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to one snapshot version with its segments attached (callers key caches by
    the versioned path). A missing segment raises: the snapshot cannot be read."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        attach_segments(con, path)
    except BaseException:
        con.close()
        raise
    return con


def attach_segments(con: duckdb.DuckDBPyConnection, path: Path, database: str = "") -> None:
    """Attach, read-only, the segments snapshot ``path`` names, under the names its views use (a snapshot
    attached as ``database`` in ``con``; its main database if empty). Attached already, they stay."""
    table = f"{identifier(database)}.snapshot_segments" if database else "snapshot_segments"
    if database and not con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = $d AND table_name = "
                                "'snapshot_segments'", params={"d": database}).fetchall()[0][0]:
        return  # a snapshot from before segments (its layout says so)
    for alias, file in con.sql(f"SELECT alias, file FROM {table}").fetchall():
        con.execute(f"ATTACH IF NOT EXISTS {literal(str(path.parent / SEGMENTS / file))} AS {identifier(alias)} "
                    "(READ_ONLY)")


def segments_named(path: Path) -> set[str]:
    """The segment files snapshot ``path`` names (none for a snapshot from before segments)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {file for (file,) in con.sql("SELECT file FROM snapshot_segments").fetchall()}
    except duckdb.CatalogException:
        return set()
    finally:
        con.close()


def snapshot_layout(path: Path) -> int:
    """The layout a snapshot was built with (0 for snapshots from before layouts were recorded)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = {r[0] for r in con.sql("DESCRIBE snapshot_meta").fetchall()}
        return con.sql("SELECT layout FROM snapshot_meta").fetchall()[0][0] if "layout" in columns else 0
    finally:
        con.close()


def current_snapshot(snapshot_dir: Path | None = None) -> Path | None:
    """The live snapshot file, or None when none has been published."""
    folder = Path(snapshot_dir or paths.snapshots_dir())
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder / name
    return path if name.startswith(PREFIX) and path.is_file() else None


CHECKED = "CHECKED"  # "<snapshot name> <UTC time>": a refresh found the live snapshot's sources unchanged


def record_check(folder: Path, live: Path, at: dt.datetime) -> None:
    """A refresh found nothing changed: the live snapshot stays and says when its sources were last asked
    (written aside and renamed, like the pointer)."""
    aside = folder / f".building-{CHECKED}"
    aside.write_text(f"{live.name} {at.astimezone(dt.UTC).isoformat()}", encoding="utf-8")
    paths.private_file(aside)
    os.replace(aside, folder / CHECKED)


def last_check(live: Path | None) -> dt.datetime | None:
    """When a refresh last found the live snapshot's sources unchanged (None: not since it was built)."""
    if live is None:
        return None
    try:
        name, at = (live.parent / CHECKED).read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return dt.datetime.fromisoformat(at) if name == live.name else None


def list_snapshots(snapshot_dir: Path) -> list[Path]:
    return sorted(snapshot_dir.glob(f"{PREFIX}*.duckdb"))


def snapshot_problem(path: Path) -> str | None:
    """None when ``path`` opens as a snapshot this version reads, its segments included; else why not, in
    one line."""
    try:
        layout = snapshot_layout(path)
        if layout == LAYOUT:
            connect(path).close()  # every segment it names is there and opens
    except (duckdb.Error, OSError, IndexError) as exc:
        return first_line(exc, typed=True)
    return None if layout == LAYOUT else f"built by an older version (layout {layout}, this version reads {LAYOUT})"


@dataclass(frozen=True)
class Usable:
    """The snapshot to read, and why it is not the live one (a fallback) if it is not."""

    path: Path | None
    live: Path | None
    problem: str | None  # what is wrong with the live snapshot (None: it is fine)


def usable_snapshot(snapshot_dir: Path | None = None) -> Usable:
    """The live snapshot, or, when it cannot be read (a corrupt file), the newest kept version that can:
    the app shows that one with a warning instead of failing on every page."""
    folder = Path(snapshot_dir or paths.snapshots_dir())
    live = current_snapshot(folder)
    if live is None:
        return Usable(None, None, None)
    problem = snapshot_problem(live)
    if problem is None or problem.startswith("built by an older version"):
        return Usable(live, live, None)  # an older layout is a rebuild prompt, not a fallback
    older = [p for p in reversed(list_snapshots(folder)) if p != live and snapshot_problem(p) is None]
    return Usable(older[0] if older else None, live, problem)


# --- publishing -------------------------------------------------------------------------------------


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """One build at a time per snapshot folder; stale temporary files are removed under the lock."""
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        for stale in (*folder.glob(".building-*"), *(folder / SEGMENTS).glob(".building-*")):
            remove_leftover(stale)
        yield


def remove_leftover(path: Path) -> None:
    """A leftover of a build: its file, WAL or spill folder (``<file>.tmp``)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(folder: Path, tmp: Path, final: Path, segments: dict[Path, Path] | None = None) -> None:
    """Make the built file ``tmp`` the live snapshot ``final``: the new segments it names (``segments``:
    built file -> final name) synced and renamed first, then the snapshot, then the pointer switched
    (itself written aside, synced and renamed), so a crash at any point leaves one whole live snapshot."""
    for built, named in (segments or {}).items():
        paths.private_file(built)
        fsync(built)
        os.replace(built, named)
    if segments:
        fsync(folder / SEGMENTS)
    pointer_tmp = folder / f".building-{POINTER}"
    paths.private_file(tmp)
    fsync(tmp)
    os.replace(tmp, final)
    pointer_tmp.write_text(final.name, encoding="utf-8")
    paths.private_file(pointer_tmp)
    fsync(pointer_tmp)
    os.replace(pointer_tmp, folder / POINTER)
    fsync(folder)


def discard(folder: Path, tmp: Path, final: Path) -> None:
    """After a failed build: nothing half-built stays behind, and the pointer still names the previous
    snapshot (``final`` is removed unless it became live)."""
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal"), tmp.with_name(tmp.name + ".tmp"),
                     folder / f".building-{POINTER}", *(folder / SEGMENTS).glob(".building-*")):
        remove_leftover(leftover)
    if current_snapshot(folder) != final:
        final.unlink(missing_ok=True)
    prune_segments(folder)


def prune(folder: Path, keep: int, live: Path) -> None:
    """Delete all but the newest ``keep`` versions (they hold personal data); never the live one."""
    for old in list_snapshots(folder)[: -max(keep, 1)]:
        if old != live:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".wal").unlink(missing_ok=True)
    prune_segments(folder)


def prune_segments(folder: Path) -> None:
    """Delete every segment no snapshot in ``folder`` names (under the build lock: no build is writing).
    A snapshot that cannot be read keeps every segment: better a file too many than one missing."""
    named: set[str] = set()
    for snapshot in list_snapshots(folder):
        try:
            named |= segments_named(snapshot)
        except (duckdb.Error, OSError):
            return
    for segment in (folder / SEGMENTS).glob("*.duckdb"):
        if segment.name not in named:
            segment.unlink(missing_ok=True)
            segment.with_name(segment.name + ".wal").unlink(missing_ok=True)
