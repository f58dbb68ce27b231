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
from dashboard.policy import Policy, load_policy

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS kpi_history (
    snapshot TEXT NOT NULL, built_at TEXT NOT NULL, as_of TEXT NOT NULL, kind TEXT NOT NULL,
    kpi TEXT NOT NULL, value REAL, PRIMARY KEY (snapshot, as_of, kpi)
);
"""


class KpiHistory:
    def __init__(self, path: Path | None = None):
        self.path = Path(path or paths.data_dir() / "state" / "kpi_history.sqlite")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def append(self, snapshot: str, built_at: dt.datetime, as_of: dt.date, figures: dict, kind: str = "build") -> None:
        rows = [(snapshot, built_at.isoformat(), as_of.isoformat(), kind, k, None if v is None else float(v))
                for k, v in figures.items()]
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO kpi_history VALUES (?, ?, ?, ?, ?, ?)", rows)

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
        real history.
        """
        con = data.connect(snapshot)
        written = 0
        try:
            built = data.run(con, "snapshot_info")["built_at"][0].astimezone(BERLIN)
            settings = load_policy().settings
            month_start = built.date().replace(day=1)
            for _ in range(months):
                as_of = month_start - dt.timedelta(days=1)
                moment = dt.datetime.combine(as_of, dt.time(23, 59), BERLIN).astimezone(dt.UTC)
                figures = kpis.headline(functools.partial(data.run, con), as_of, moment, settings)
                self.append(snapshot.name, moment, as_of, figures, kind="backfill")
                month_start = as_of.replace(day=1)
                written += 1
        finally:
            con.close()
        return written

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


def record_build(snapshot: Path, data_dir: Path, policy: Policy | None = None) -> None:
    """Called by the snapshot builder after publishing; a failure here never unpublishes the snapshot."""
    try:
        KpiHistory(data_dir / "state" / "kpi_history.sqlite").record_snapshot(snapshot, policy)
    except Exception:  # noqa: BLE001 - the snapshot is live; the history gap is logged, not fatal
        log.exception("could not append the KPI history for %s", snapshot.name)
