"""Headline figures: traffic lights from the policy, and the KPI history that outlives pruning."""

from __future__ import annotations

import pytest

from dashboard import kpis
from dashboard.build import build_snapshot
from dashboard.history import KpiHistory
from dashboard.policy import PolicyError, Threshold, load_policy, parse_policy
from dashboard.snapshot import list_snapshots
from tests.helpers import write_store


@pytest.mark.parametrize(("value", "threshold", "expected"), [
    (0, Threshold("x", "lower", 0, 2), "green"),
    (2, Threshold("x", "lower", 0, 2), "amber"),
    (3, Threshold("x", "lower", 0, 2), "red"),
    (95.0, Threshold("x", "higher", 95, 85), "green"),
    (85.0, Threshold("x", "higher", 95, 85), "amber"),
    (84.9, Threshold("x", "higher", 95, 85), "red"),
    (None, Threshold("x", "higher", 95, 85), None),
    (5, None, None),
])
def test_traffic_light(value, threshold, expected):
    assert kpis.traffic_light(value, threshold) == expected


def test_every_threshold_names_a_headline_figure():
    assert set(load_policy().thresholds) <= set(kpis.UNITS)


def test_threshold_errors_name_the_key():
    import tomllib

    from dashboard.paths import DEFAULT_POLICY_FILE

    raw = tomllib.loads(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    raw["thresholds"]["requests_overdue"] = {"better": "lower", "green": 5, "amber": 1}
    with pytest.raises(PolicyError, match="thresholds.requests_overdue: amber must lie beyond green"):
        parse_policy(raw, "policy.toml")
    raw["thresholds"]["requests_overdue"] = {"better": "sideways", "green": 0, "amber": 1}
    with pytest.raises(PolicyError, match="thresholds.requests_overdue.better"):
        parse_policy(raw, "policy.toml")


def test_history_appends_one_row_per_build_and_survives_pruning(tmp_path):
    sources = write_store(tmp_path / "src", {"requests": [
        {"request_id": "Q1", "contact_id": "C1", "right": "access", "channel": "email",
         "received_at": "2026-01-05T09:00:00Z", "status": "in_progress"}]})
    built = [build_snapshot(sources, data_dir=tmp_path, keep=2, full=True).path.name for _ in range(4)]
    assert len(list_snapshots(tmp_path / "snapshots")) == 2  # pruned
    series = KpiHistory(tmp_path / "state" / "kpi_history.sqlite").series()
    builds = series.filter(series["kind"] == "build")
    assert sorted(set(builds["snapshot"])) == sorted(built)  # all four, pruned ones too
    assert builds.height == 4 * len(kpis.KPIS)
    overdue = builds.filter(builds["kpi"] == "requests_overdue")["value"].to_list()
    assert overdue == [1.0] * 4  # due 2026-02-05, long overdue at every build
    history = KpiHistory(tmp_path / "state" / "kpi_history.sqlite")
    assert history.previous(built[-1])["requests_open"] == 1.0
    assert history.previous(built[0]) == {}
    assert set(series.columns) == {"snapshot", "built_at", "as_of", "kind", "kpi", "value"}  # aggregates only


def test_backfill_recomputes_points_of_older_rules(tmp_path):
    """Stored points from before a rule fix are computed again (R2.4a) and marked recomputed.

    A breach aware 2026-03-01 was notified late on 2026-03-10. A history point stored at the
    2026-03-05 month-end-like moment under the old rules said "notified late"; what stood then was
    an overdue clock. kpi-backfill corrects the stored value in place and marks it.
    """
    import datetime as dt
    import sqlite3

    from dashboard import history

    sources = write_store(tmp_path / "src", {"incidents": [
        {"incident_id": "B1", "title": "x", "type": "confidentiality", "detected_at": "2026-03-01T07:00:00Z",
         "aware_at": "2026-03-01T08:00:00Z", "risk": "risk", "authority_notified_at": "2026-03-10T08:00:00Z",
         "status": "notified"}]})
    snapshot = build_snapshot(sources, data_dir=tmp_path).path
    store = KpiHistory(tmp_path / "state" / "kpi_history.sqlite")
    moment = dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC)
    with sqlite3.connect(store.path) as db:  # a point written by an older version, with the old figure
        db.executemany("INSERT INTO kpi_history VALUES ('snapshot-old', ?, '2026-03-05', 'build', ?, ?, 1)",
                       [(moment.isoformat(), "incidents_overdue", 0.0), (moment.isoformat(), "incidents_on_time_pct",
                                                                         0.0)])
    assert store.recompute_outdated(snapshot) == 1
    series = store.series().filter(store.series()["snapshot"] == "snapshot-old")
    values = dict(zip(series["kpi"], series["value"], strict=True))
    assert values["incidents_overdue"] == 1.0  # overdue on 03-05, not yet notified
    assert values["incidents_on_time_pct"] == 0.0  # the one decided breach was not on time
    assert set(series["kind"]) == {"recomputed"} and len(values) == len(kpis.KPIS)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT DISTINCT rules FROM kpi_history").fetchall() == [(history.RULES,)]
    assert store.recompute_outdated(snapshot) == 0  # nothing older is left
