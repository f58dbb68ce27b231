"""Where a build keeps its large tables: in segments (``dashboard.snapshot``), immutable files named by the
fingerprint of what they hold, so that the next snapshot made from the same data attaches the file
instead of copying its rows.

Copying was the floor of every refresh: DuckDB decompresses and compresses every row it copies (the
28 s of a 52 s refresh of the large profile in which nothing but the privacy register changed). Copying
the live file and rebuilding only what changed in place is not an option: DuckDB does not overwrite a
dropped table's blocks, so data erased at its source would live on in the free space of every later
snapshot. A segment is written once, whole, and deleted with the last snapshot that names it.

A table goes into a segment when the build never rewrites it after it is made and it has a fingerprint:
the large canonical tables (``TABLES``, unless their contact ids become merged people's) and the
derived groups ``reuse.DERIVED`` marks. Everything else (the register, people, what holds a record,
the bookkeeping) is small, changes by the hour, and stays in the snapshot file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dashboard import paths
from dashboard.snapshot import SEGMENTS
from dashboard.sqltext import identifier, literal

# The canonical tables kept in segments: the large ones no build step rewrites (requests and incidents
# gain their deadlines, contacts become people: those stay in the snapshot file).
TABLES = frozenset({"tickets", "attachments", "contracts", "invoices", "consent_events"})


def file_name(name: str, key: str) -> str:
    return f"{name}-{key}.duckdb"


def alias(key: str) -> str:
    """The name a segment is attached under, in the build and in every reader (the views use it)."""
    return f"seg_{key}"


class Segments:
    """The segments of one build: the ones it attaches as they are and the ones it writes, which
    ``finish`` hands to ``snapshot.publish``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, snapshots: Path):
        self.con = con
        self.folder = paths.private_dir(snapshots / SEGMENTS)
        self.written: dict[Path, Path] = {}  # built file -> its name once published
        self._open: list[str] = []  # the aliases of the segments being written

    def attach(self, name: str, key: str, tables: tuple[str, ...]) -> bool:
        """Use the segment of ``name`` with fingerprint ``key`` as it is (views over its ``tables``); False
        when there is no such file."""
        final = self.folder / file_name(name, key)
        if not final.is_file():
            return False
        self.con.execute(f"ATTACH IF NOT EXISTS {literal(str(final))} AS {alias(key)} (READ_ONLY)")
        self._name(key, final.name, tables)
        return True

    @contextlib.contextmanager
    def write(self, name: str, key: str, tables: tuple[str, ...]) -> Iterator[None]:
        """Within the block, the tables a statement creates go into a new segment of ``name`` with
        fingerprint ``key`` (what it reads is found there first, then in the snapshot); after it, the
        snapshot has a view over each of ``tables``."""
        final = self.folder / file_name(name, key)
        built = self.folder / f".building-{final.name}"
        built.unlink(missing_ok=True)
        main = self.con.sql("SELECT current_database()").fetchall()[0][0]
        self.con.execute(f"ATTACH {literal(str(built))} AS {alias(key)}")
        self.written[built] = final
        self._open.append(alias(key))
        self.con.execute(f"USE {alias(key)}")
        self.con.execute(f"SET search_path = {literal(f'{alias(key)}.main,{identifier(main)}.main')}")
        try:
            yield
        finally:
            self.con.execute(f"USE {identifier(main)}")
            self.con.execute("RESET search_path")
        self._name(key, final.name, tables)

    def _name(self, key: str, file: str, tables: tuple[str, ...]) -> None:
        for table in tables:
            self.con.execute(f"CREATE VIEW {identifier(table)} AS SELECT * FROM {alias(key)}.main.{identifier(table)}")
        self.con.execute("INSERT INTO snapshot_segments VALUES ($a, $f)", {"a": alias(key), "f": file})

    def finish(self) -> dict[Path, Path]:
        """Close the segments written, each checkpointed first (its rows in the file, no log beside it, as
        ``publish`` renames the file alone), and hand them over: built file -> final name."""
        for name in self._open:
            self.con.execute(f"CHECKPOINT {name}")
            self.con.execute(f"DETACH {name}")
        return self.written
