"""KPI history: the headline figures of every snapshot build, kept after the snapshot is pruned.

Snapshots hold personal data and are pruned to a few versions; their aggregate figures (no personal
data) are appended here at each build, so the overview can chart every KPI over time. SQLite in
``DASHBOARD_DATA_DIR/state/``. Plain Python, no Streamlit import.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from dashboard import data, kpis, paths
from dashboard.deadlines import BERLIN
from dashboard.errors import DashboardError
from dashboard.policy import Policy, load_policy

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS kpi_history (
    snapshot TEXT NOT NULL, built_at TEXT NOT NULL, as_of TEXT NOT NULL, kind TEXT NOT NULL,
    kpi TEXT NOT NULL, value REAL, rules INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (snapshot, as_of, kpi)
);
"""
# The version of the rules (DOMAIN.md) a stored figure was computed with. Raise it when a rule fix
# changes figures: kpi-backfill then recomputes every older point and marks it "recomputed".
# 2: look-backs as things stood (R2.4a, R3.3), 90 days = 90 dates (R1.9), erasure rules (R3.6, section 5).
# 3: an erased subject's statutory records restricted without a hold row (section 5), a closed duplicate
#    closed (R1.8), a look back counts only the records that existed then (R3.4): see snapshot.LAYOUT 9.
RULES = 3
# Stored points: "build" (at a snapshot build), "backfill" (a past month end computed later),
# "recomputed" (a point of an older rule version computed again with the current rules).
KINDS = ("build", "backfill", "recomputed")


class HistoryUnavailable(DashboardError):
    """The history could not be read or written (e.g. another process holds a lock): the current
    figures do not depend on it, so pages show them without the history."""

    label = "errors.history"


# Readers wait this long for a lock before giving up; the build's writer waits longer.
READ_TIMEOUT_S = 2.0


class KpiHistory:
    def __init__(self, path: Path | None = None, timeout: float = READ_TIMEOUT_S):
        self.path = Path(path or paths.data_dir() / "state" / "kpi_history.sqlite")
        self.timeout = timeout
        paths.private_dir(self.path.parent)
        with self._db() as db:
            if "kpi_history" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}:
                db.executescript(SCHEMA)
            if "rules" not in {row[1] for row in db.execute("PRAGMA table_info(kpi_history)")}:
                db.execute("ALTER TABLE kpi_history ADD COLUMN rules INTEGER NOT NULL DEFAULT 1")
        paths.private_file(self.path)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")  # readers are not blocked by a writer
            yield db
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            db.close()

    def append(self, snapshot: str, built_at: dt.datetime, as_of: dt.date, figures: dict, kind: str = "build") -> None:
        rows = [(snapshot, built_at.isoformat(), as_of.isoformat(), kind, k, None if v is None else float(v), RULES)
                for k, v in figures.items()]
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO kpi_history VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def record_snapshot(self, snapshot: Path, policy: Policy | None = None) -> dict:
        """Append the figures of a freshly built snapshot, as of its build moment."""
        con = data.connect(snapshot)
        try:
            built = data.run(con, "snapshot_info")["built_at"][0].astimezone(dt.UTC)
            now = built.replace(second=0, microsecond=0)
            figures = kpis.headline(functools.partial(data.run, con), now.astimezone(BERLIN).date(), now,
                                    (policy or load_policy()).settings)
        finally:
            con.close()
        self.append(snapshot.name, built, now.astimezone(BERLIN).date(), figures)
        return figures

    def backfill(self, snapshot: Path, months: int = 12) -> int:
        """Figures at past month ends, recomputed from one snapshot (marked "backfill", not a build).

        For a fresh installation, so the trend is not a single point; every later build appends
        real history. Each point reads the snapshot as things stood at that month end (R2.4a, R3.3).
        """
        built = self._built_at(snapshot).astimezone(BERLIN)
        month_start = built.date().replace(day=1)
        moments = []
        for _ in range(months):
            as_of = month_start - dt.timedelta(days=1)
            moments.append((as_of, dt.datetime.combine(as_of, dt.time(23, 59), BERLIN).astimezone(dt.UTC)))
            month_start = as_of.replace(day=1)
        for as_of, moment, figures in self._compute(snapshot, moments):
            self.append(snapshot.name, moment, as_of, figures, kind="backfill")
        return len(moments)

    def recompute_outdated(self, snapshot: Path) -> int:
        """Compute every point stored under an older rule version again, with the current rules, at
        its own moment, from ``snapshot``; the point keeps its place and is marked "recomputed"."""
        with self._db() as db:
            stale = db.execute("SELECT DISTINCT snapshot, built_at, as_of FROM kpi_history WHERE rules < ?",
                               (RULES,)).fetchall()
        moments = [(dt.date.fromisoformat(as_of), _moment(built_at)) for _, built_at, as_of in stale]
        for (old_snapshot, built_at, _), (as_of, _, figures) in zip(stale, self._compute(snapshot, moments),
                                                                     strict=True):
            rows = [(None if v is None else float(v), RULES, old_snapshot, as_of.isoformat(), k)
                    for k, v in figures.items()]
            with self._db() as db:
                db.executemany("UPDATE kpi_history SET value = ?, rules = ?, kind = 'recomputed' "
                               "WHERE snapshot = ? AND as_of = ? AND kpi = ?", rows)
                db.executemany("INSERT OR IGNORE INTO kpi_history VALUES (?, ?, ?, 'recomputed', ?, ?, ?)",
                               [(old_snapshot, built_at, r[3], r[4], r[0], RULES) for r in rows])
        return len(stale)

    @staticmethod
    def _built_at(snapshot: Path) -> dt.datetime:
        con = data.connect(snapshot)
        try:
            return data.run(con, "snapshot_info")["built_at"][0].astimezone(dt.UTC)
        finally:
            con.close()

    @staticmethod
    def _compute(snapshot: Path, moments: list[tuple[dt.date, dt.datetime]]):
        """The headline figures of ``snapshot`` at each (date, moment), in order."""
        settings = load_policy().settings
        con = data.connect(snapshot)
        try:
            run = functools.partial(data.run, con)
            return [(as_of, moment, kpis.headline(run, as_of, moment, settings)) for as_of, moment in moments]
        finally:
            con.close()

    def stamp(self) -> tuple:
        """What changes whenever a figure is recorded or recomputed (rows, newest build, sum of values):
        a chart drawn from ``series`` is made anew only then."""
        with self._db() as db:
            return tuple(db.execute("SELECT count(*), max(built_at), sum(value) FROM kpi_history").fetchone())

    def series(self) -> pl.DataFrame:
        """Every recorded figure: snapshot, built_at (UTC), as_of, kind, kpi, value; oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT snapshot, built_at, as_of, kind, kpi, value FROM kpi_history "
                              "ORDER BY as_of, built_at").fetchall()
        schema = {"snapshot": pl.String, "built_at": pl.String, "as_of": pl.String, "kind": pl.String,
                  "kpi": pl.String, "value": pl.Float64}
        frame = pl.DataFrame(rows, schema=schema, orient="row")
        return frame.with_columns(pl.col("built_at").str.to_datetime(time_zone="UTC"), pl.col("as_of").str.to_date())

    def previous(self, snapshot: str) -> dict[str, float | None]:
        """The figures of the last build before ``snapshot`` (empty when there is none)."""
        with self._db() as db:
            row = db.execute("SELECT snapshot FROM kpi_history WHERE kind = 'build' AND snapshot < ? "
                             "ORDER BY snapshot DESC LIMIT 1", (snapshot,)).fetchone()
            if row is None:
                return {}
            return dict(db.execute("SELECT kpi, value FROM kpi_history WHERE snapshot = ? AND kind = 'build'",
                                   (row[0],)).fetchall())


def _moment(stored: str) -> dt.datetime:
    """A stored built_at (ISO, UTC) as the moment its figures describe, to the minute."""
    return dt.datetime.fromisoformat(stored).astimezone(dt.UTC).replace(second=0, microsecond=0)


def record_build(snapshot: Path, data_dir: Path, policy: Policy | None = None) -> None:
    """Called by the snapshot builder after publishing; a failure here never unpublishes the snapshot."""
    try:
        KpiHistory(data_dir / "state" / "kpi_history.sqlite", timeout=30).record_snapshot(snapshot, policy)
    except Exception:  # noqa: BLE001 - the snapshot is live; the history gap is logged, not fatal
        log.exception("could not append the KPI history for %s", snapshot.name)
