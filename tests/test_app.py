"""Every page renders on the demo snapshot and shows its headline figures (Streamlit AppTest)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import APP, app, states

PAGES = {
    "views/overview.py": ["Offene Anfragen", "Löschrückstand (Datensätze)", "Einwilligungsquote Newsletter (%)",
                          "Offene 72-h-Fristen", "Binnen 72 h gemeldet, 12 Monate (%)"],
    "views/retention.py": ["Löschung fällig", "Fällig in Kürze", "Gesperrt (Hold)", "Anhänge fällig",
                           "Löschbare Stammdaten"],
    "views/requests.py": ["Offen", "Überfällig", "Fällig in ≤ 7 Tagen", "Nicht verifiziert / Duplikat"],
    "views/consent.py": ["Einwilligungsquote", "Aktiv", "DOI-Bestätigungsquote", "Widerrufe (30 Tage)",
                          "Newsletter ohne DOI-Bestätigung"],
    "views/incidents.py": ["überfällig", "Warnung (< 24 h)", "fristgerecht gemeldet", "Binnen 72 h gemeldet",
                           "Median Kenntnis → Meldung", "Verspätet ohne Begründung"],
    "views/exports.py": [],
    "views/quality.py": [],
}


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_figures(demo_data_dir, use_data_dir, page):
    use_data_dir(demo_data_dir)
    at = app(page)
    assert not at.exception, [e.value for e in at.exception]
    # the error boundary turns a crash into a message: none may be on the page
    assert not [e.value for e in at.error if "Unerwarteter Fehler" in e.value]
    labels = [m.label for m in at.metric]
    for expected in PAGES[page]:
        assert expected in labels, (expected, labels)


def test_overview_tiles_equal_the_queries(demo_data_dir, use_data_dir):
    """Each tile shows exactly the figure its named query returns for today (no second computation)."""
    import datetime as dt

    from dashboard import data
    from dashboard.deadlines import BERLIN
    from dashboard.policy import load_policy
    from dashboard.snapshot import current_snapshot

    use_data_dir(demo_data_dir)
    at = app()
    tiles = {m.label: m.value for m in at.metric}
    settings = load_policy().settings
    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    today = dt.datetime.now(BERLIN).date()
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    req = data.run(con, "requests_kpis", as_of=today, due_soon_days=settings.due_soon_days).row(0, named=True)
    ret = data.run(con, "retention_summary", as_of=today, window_days=settings.approaching_days, categories=[],
                   systems=[])
    consent = {r["purpose"]: r for r in data.run(con, "consent_summary", as_of=today).iter_rows(named=True)}
    clocks = dict(data.run(con, "incident_clock_counts", as_of=now, warning_hours=24)
                  .select("clock", "still_open").iter_rows())

    def de(n):
        return f"{int(n):,}".replace(",", ".")

    def pct(x):
        return f"{x:.1f} %".replace(".", ",")

    incidents = data.run(con, "incident_kpis", as_of=now, warning_hours=24).row(0, named=True)
    assert tiles["Offene Anfragen"] == de(req["open"])
    assert tiles["Überfällige Anfragen"] == de(req["overdue"])
    assert tiles["Fristgerecht beantwortet, 90 Tage (%)"] == pct(req["on_time_pct_90d"])
    assert tiles["Löschrückstand (Datensätze)"] == de(ret["due"].sum())
    assert tiles["Löschung fällig in 30 Tagen (Datensätze)"] == de(ret["approaching"].sum())
    erasures = data.run(con, "erasure_findings", as_of=today, request_id=None)
    assert tiles["Löschung nicht umgesetzt (Anfragen)"] == de(erasures["request_id"].n_unique())
    assert erasures["request_id"].n_unique() >= 1  # the demo's situation C90000013
    assert tiles["Einwilligungsquote Newsletter (%)"] == pct(consent["newsletter"]["consent_rate_pct"])
    assert tiles["Einwilligungsquote Erweiterte Analyse (%)"] == pct(consent["extended_analytics"]["consent_rate_pct"])
    assert tiles["Offene 72-h-Fristen"] == de(clocks.get("open", 0) + clocks.get("warning", 0))
    assert tiles["Meldungen überfällig"] == de(clocks.get("overdue", 0))
    assert tiles["Binnen 72 h gemeldet, 12 Monate (%)"] == pct(incidents["on_time_pct"])
    # Every tile has a traffic light (all KPIs with a threshold) and nothing personal is on the page.
    lights = [m.value for m in at.markdown if any(w in m.value for w in ("im Soll", "beobachten", "handeln"))]
    assert len(lights) == len(load_policy().thresholds) == 8  # one light per threshold in data/policy.toml


def test_tiles_explain_what_they_count_and_their_thresholds(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app()
    helps = {m.label: m.proto.help for m in at.metric}
    assert "vor heute lag" in helps["Überfällige Anfragen"]
    assert "im Soll bis 0, beobachten bis 2, handeln ab mehr als 2" in helps["Überfällige Anfragen"]
    assert "im Soll ab 95,0 %, beobachten ab 85,0 %, handeln unter 85,0 %" in helps[
        "Fristgerecht beantwortet, 90 Tage (%)"]
    # No "watch" band where green and amber are one (not "beobachten bis 0"), and no file name for management.
    erasure = helps["Löschung nicht umgesetzt (Anfragen)"]
    assert "im Soll bei 0, handeln ab mehr als 0" in erasure and "beobachten" not in erasure
    assert not [h for h in helps.values() if ".toml" in h]
    assert "Ohne Ampel" in helps["Offene Anfragen"]


def test_tile_click_opens_the_page_with_its_filter(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app()
    at.button(key="tile_requests_overdue").click().run()
    assert not at.exception
    assert at.toggle(key="requests_overdue_only").value is True
    clocks = set(states(at.dataframe[0].value["clock"]))
    assert clocks == {"überfällig"}
    # Each state on its colour (a label, not a Styler writing every cell): overdue red.
    options = json.loads(at.dataframe[0].proto.columns)["clock"]["type_config"]["options"]
    assert {"value": "überfällig", "color": "#c62828"} in options
    assert at.query_params["overdue"] == "1"  # the filtered view is a link
    at = app()
    at.button(key="tile_incidents_overdue").click().run()
    assert at.multiselect(key="incidents_clocks").value == ["overdue"]
    assert at.query_params["clock"] == "overdue"


def test_the_72_hour_tile_opens_exactly_the_breaches_it_counts(demo_data_dir, use_data_dir):
    """One definition: the figure is on time / decided (clock stopped or run out, aware in 12 months), its
    help says so, and its link lists exactly those breaches (the clocks and the 12-month window)."""

    from dashboard import data
    from dashboard.snapshot import current_snapshot

    use_data_dir(demo_data_dir)
    at = app()
    tile = next(m for m in at.metric if m.label.startswith("Binnen 72 h gemeldet"))
    assert "Verspätet gemeldete und überfällige" in tile.help
    at.button(key="tile_incidents_on_time_pct").click().run()
    assert not at.exception
    assert at.toggle(key="incidents_window").value is True and at.query_params["window"] == "1"
    listed = at.dataframe[0].value
    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    try:  # the page reads the clocks now, as this does
        kpi = data.run(con, "incident_kpis", as_of=dt.datetime.now(dt.UTC), warning_hours=24).row(0, named=True)
    finally:
        con.close()
    assert len(listed) == kpi["decided"] > 0
    clocks = states(listed["clock"])
    assert set(clocks) <= {"fristgerecht gemeldet", "verspätet gemeldet", "überfällig"}
    on_time = clocks.count("fristgerecht gemeldet")
    assert round(100 * on_time / len(listed), 1) == kpi["on_time_pct"]


def test_on_time_tile_opens_the_answered_requests_it_counts(demo_data_dir, use_data_dir):
    """"Fristgerecht beantwortet, 90 Tage" opens the answered requests of that window, right under the
    figures: as many as the figure counts, and as many of them on time as its percentage says."""
    from dashboard import data
    from dashboard.policy import load_policy
    from dashboard.snapshot import current_snapshot

    use_data_dir(demo_data_dir)
    at = app()
    at.button(key="tile_requests_on_time_pct").click().run()
    assert not at.exception
    assert at.query_params["answered"] == "1"
    assert at.toggle(key="requests_show_answered").value is True
    title = next(m.value for m in at.markdown if m.value.startswith("**Beantwortet in den letzten 90 Tagen"))
    table = at.dataframe[0].value  # right under the figures, before the queue
    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    kpi = data.run(con, "requests_kpis", as_of=at.date_input(key="requests_as_of").value,
                   due_soon_days=load_policy().settings.due_soon_days).row(0, named=True)
    assert len(table) == kpi["answered_90d"] > 0
    on_time = (table["answered_on_time"] == "ja").sum()
    assert round(100 * on_time / len(table), 1) == kpi["on_time_pct_90d"]
    assert f"{len(table)}, davon fristgerecht {on_time}" in title
    at = app("views/requests.py")  # without the link: switched off, the queue comes first
    assert at.toggle(key="requests_show_answered").value is False
    assert "clock" in at.dataframe[0].value.columns


def test_a_link_with_filters_opens_the_filtered_view(demo_data_dir, use_data_dir):
    """A URL a DPO sends (or a reload) shows the same filter; values a page does not offer are ignored."""
    use_data_dir(demo_data_dir)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["status"] = ["held", "nonsense"]
    at.run()
    at.switch_page("views/retention.py").run()
    assert not at.exception
    assert at.multiselect(key="retention_statuses").value == ["held"]
    at.multiselect(key="retention_statuses").set_value(["approaching"]).run()
    assert at.query_params["status"] == "approaching"


def test_a_package_that_would_name_past_retention_dates_is_flagged_before_it_is_sent(demo_data_dir, use_data_dir):
    """DSR-DEMO-12's subject still has two records past their retention date, the oldest since 31.12.2017:
    the drill-down warns above the Art. 15 button."""
    use_data_dir(demo_data_dir)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["request"] = "DSR-DEMO-12-held-while-open"
    at.run()
    at.switch_page("views/requests.py").run()
    assert not at.exception
    warned = [w.value for w in at.warning if w.value.startswith("Vor dem Versand prüfen")]
    assert warned and "nennt 2 Datensätze" in warned[0] and "31.12.2017" in warned[0], warned


def test_every_filter_and_the_date_come_back_from_a_link(demo_data_dir, use_data_dir):
    """Codes and ISO dates in the URL set the filters and "Stand am"; a date that is not one is ignored;
    a choice writes the URL back (today's date is not written: such a link opens at its own today)."""
    from dashboard.policy import load_policy

    use_data_dir(demo_data_dir)
    first = next(iter(load_policy().retention))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"category": [first, "nonsense"], "as_of": "2026-06-30", "until": ["2026-01-01", "x"]})
    at.run()
    at.switch_page("views/retention.py").run()
    assert not at.exception
    assert at.multiselect(key="retention_categories").value == [first]
    assert at.date_input(key="retention_as_of").value == dt.date(2026, 6, 30)
    assert at.date_input(key="retention_until").value == ()  # "x" is no date: the range is not guessed
    at.date_input(key="retention_as_of").set_value(dt.date(2026, 7, 31)).run()
    assert at.query_params["as_of"] == "2026-07-31"
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"right": ["erasure"], "channel": ["phone"], "received": ["2026-01-01", "2026-03-31"]})
    at.run()
    at.switch_page("views/requests.py").run()
    assert not at.exception
    assert at.multiselect(key="requests_rights").value == ["erasure"]
    assert at.multiselect(key="requests_channels").value == ["phone"]
    assert at.date_input(key="requests_received").value == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def test_requests_look_ahead_changes_figures(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/requests.py")
    overdue_now = int(next(m.value for m in at.metric if m.label == "Überfällig").replace(".", ""))
    today = at.date_input(key="requests_as_of").value
    at.date_input(key="requests_as_of").set_value(today.replace(year=today.year + 2)).run()
    assert not at.exception
    overdue_later = int(next(m.value for m in at.metric if m.label == "Überfällig").replace(".", ""))
    assert overdue_later >= overdue_now and overdue_later > 0


def test_a_date_out_of_range_says_so_and_shows_no_stale_figures(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/requests.py")
    assert at.metric and at.dataframe
    at.date_input(key="requests_as_of").set_value(dt.date(2099, 12, 31)).run()
    assert not at.exception
    assert any("„Stand am“ muss zwischen" in e.value and "31.12." in e.value for e in at.error)
    assert not at.metric and not at.dataframe  # nothing of the previous date stays on screen


def test_retention_filters(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/retention.py")
    # [0] is the per-category summary, [1] the erasures not carried out (R3.6), [2] the deletion tasks a
    # system did not finish, [3] the records.
    erasures = at.dataframe[1].value
    assert "DSR-DEMO-13-erasure-not-done" in set(erasures["request_id"])
    unfinished = at.dataframe[2].value
    assert sorted(unfinished["state"]) == ["fehlgeschlagen", "in Bearbeitung"]
    assert set(unfinished["request_id"]) == {"DSR-DEMO-13-erasure-not-done"}
    records = at.dataframe[3].value
    assert len(records) > 0 and set(records["status"]) == {"fällig"}
    # Due records that an erasure makes due come first.
    assert records["finding"].iloc[0] == "Löschung nicht umgesetzt (Art. 17)"
    at.multiselect(key="retention_statuses").set_value(["held"]).run()
    assert not at.exception
    held = at.dataframe[3].value
    assert len(held) > 0 and held["hold_reason"].notna().all() and set(held["status"]) == {"gesperrt"}
    # The reason of a hold the rules derive is a code, shown in the UI's language.
    assert {"Offene Betroffenenanfrage", "Offene Datenpanne"} <= set(held["hold_reason"])
    assert "Supportkommunikation" in _chart_values(at, 0, "name")  # the forecast, by category
    at.multiselect(key="retention_systems").set_value(["billing"]).run()
    summary = at.dataframe[0].value
    assert set(summary["system"]) == {"Verträge & Abrechnung"}
    assert set(at.dataframe[3].value["system"]) <= {"Verträge & Abrechnung"}
    # the forecast follows the filters too: no helpdesk category left in it
    assert "Supportkommunikation" not in _chart_values(at, 0, "name") and _chart_values(at, 0, "name")


def test_folded_sections_are_built_when_opened(demo_data_dir, use_data_dir):
    """Löschfristen's deletable master data and policy are folded: nothing of them is sent with the page
    (a table nobody opened still cost every load its render); opened, they show their list and rules."""
    use_data_dir(demo_data_dir)
    at = app("views/retention.py")
    folded = {e.label: e for e in at.expander if e.label in ("Löschbare Stammdaten", "Geltende Löschrichtlinie")}
    assert len(folded) == 2 and not any(e.children for e in folded.values())
    tables = len(at.dataframe)
    at.session_state["retention_subjects_open"] = True
    at.session_state["retention_policy_open"] = True
    at.run()
    assert not at.exception
    subjects = next(e for e in at.expander if e.label == "Löschbare Stammdaten")
    assert len(subjects.dataframe) == 1 and len(at.dataframe) == tables + 1
    assert len(subjects.dataframe[0].value) > 0
    policy = next(e for e in at.expander if e.label == "Geltende Löschrichtlinie")
    assert any("Supportkommunikation" in m.value for m in policy.markdown)


def _chart_values(at: AppTest, index: int, field: str) -> set:
    """The values of ``field`` ("x", "name", ...) over the traces of the page's ``index``-th Plotly chart."""
    values = set()
    for trace in _traces(at, index):
        value = _array(trace.get(field))
        values.update([value] if value is None or isinstance(value, str) else value)
    return values - {None}


def _traces(at: AppTest, index: int) -> list[dict]:
    import json

    return json.loads(at.get("plotly_chart")[index].proto.spec)["data"]


def _array(value):
    """A trace's values; Plotly writes numbers as base64 typed arrays ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def test_consent_finding_opens_its_list(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/consent.py")
    assert not at.exception
    pending = next(m for m in at.metric if m.label == "Opt-in offen > 30 Tage")
    at.session_state["consent_finding"] = "stale_pending"
    at.run()
    listed = at.dataframe[0].value
    assert set(listed["state"]) == {"ausstehend"}
    assert len(listed) == min(int(pending.value.replace(".", "")), 500)


def test_each_consent_finding_tile_counts_its_finding_over_every_purpose(demo_data_dir, use_data_dir):
    """The tiles and the choice of list say, per finding, the consents of every purpose that have it."""
    from dashboard import data, deadlines
    from dashboard.policy import load_policy
    from dashboard.snapshot import current_snapshot

    use_data_dir(demo_data_dir)
    at = app("views/consent.py")
    settings = load_policy().settings
    con = data.connect(current_snapshot(demo_data_dir / "snapshots"))
    counts = data.run(con, "consent_finding_counts", as_of=at.date_input(key="consent_as_of").value,
                      current_version=settings.current_notice_version, pending_days=settings.pending_optin_max_days)
    expected = [sum(n for f, n in zip(counts["finding"], counts["consents"], strict=True) if f == finding)
                for finding in deadlines.CONSENT_FINDINGS]
    assert sum(expected) > 0
    tiles = [m.value for m in at.metric][-len(expected):]  # the findings' tiles close the page's figures
    assert tiles == [f"{n:,}".replace(",", ".") for n in expected]


def test_incident_selection_shows_timeline(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/incidents.py")
    assert not at.exception
    first = at.dataframe[0].value.iloc[0]
    assert states([first["clock"]]) in (["überfällig"], ["Warnung (< 24 h)"])  # needing action first
    at.session_state["incidents_register"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert any(h.value.replace("\\", "") == f"Verlauf von {first['incident_id']}" for h in at.subheader)


def test_the_sidebar_says_when_a_refresh_last_found_nothing_changed(demo_data_dir, use_data_dir):
    """The Datenstand is when the data was built; a refresh since that found no source changed says when
    it asked, and a day without a build is then not stale."""
    from dashboard.snapshot import CHECKED, current_snapshot, record_check

    use_data_dir(demo_data_dir)
    folder = demo_data_dir / "snapshots"
    record_check(folder, current_snapshot(folder), dt.datetime(2026, 12, 7, 5, 15, tzinfo=dt.UTC))
    try:
        at = app()
        assert not at.exception
        captions = [c.value for c in at.sidebar.caption]
        assert "Quellen zuletzt geprüft: 07.12.2026, 06:15 Uhr (unverändert)" in captions, captions
    finally:
        (folder / CHECKED).unlink()


def test_language_switch(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app()
    at.selectbox(key="lang").set_value("en").run()
    labels = [m.label for m in at.metric]
    assert "Open requests" in labels and "Offene Anfragen" not in labels


def test_a_figure_is_made_once_and_shown_in_each_language(demo_data_dir, use_data_dir, monkeypatch):
    """Every session that asks for the same figure gets the one made first (a Plotly figure is made once
    per snapshot, language, role and filters); another language gets its own, in its words."""
    import plotly.express as px

    use_data_dir(demo_data_dir)
    made = []
    real = px.bar
    monkeypatch.setattr(px, "bar", lambda *a, **k: made.append(k.get("title")) or real(*a, **k))
    app("views/requests.py")  # made here, or by an earlier test on the same snapshot
    made.clear()
    at = app("views/requests.py")
    assert not at.exception and made == []  # the second session makes no figure
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Offene Anfragen nach Recht und Fristenstatus" in titles[0]
    at.selectbox(key="lang").set_value("en").run()
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Open requests by right and clock" in titles[0], titles


def test_quality_page_lists_sources(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/quality.py")
    tables = at.dataframe[0].value
    assert set(tables["table_name"]) >= {"Kontakte", "Tickets", "Betroffenenanfragen", "Datenpannen"}
    # The demo's one bad row: a breach that says closed without a closing time (R2.4b), in German.
    rejected = at.dataframe[1].value
    assert list(rejected["record_key"]) == ["INC-DEMO-09-closed-no-date"]
    assert rejected["reason"].iloc[0] == "Abgeschlossen, aber ohne Abschlusszeitpunkt"
    # Counts before the long source text, whose files are named inside the data directory.
    columns = list(tables.columns)
    assert columns.index("rejected") < columns.index("source") and columns[:2] == ["table_name", "system"]
    assert "privacy_register (jsonl: demo/privacy_register/incidents.jsonl)" in set(tables["source"])
    assert str(demo_data_dir) not in " ".join(tables["source"]) + " ".join(rejected["source"])


def test_the_record_list_puts_its_counts_before_long_text(demo_data_dir, use_data_dir):
    """At 1440 px "Tage überfällig" stays on screen: the counts follow the two columns that name a record."""
    use_data_dir(demo_data_dir)
    at = app("views/retention.py")
    columns = [list(df.value.columns) for df in at.dataframe]
    listed = next(c for c in columns if "days_overdue" in c)
    assert listed[:3] == ["category", "system", "days_overdue"], listed
    summary = columns[0]
    assert summary.index("records") < summary.index("oldest_due_since"), summary


def test_no_snapshot_explains_how_to_build(tmp_path, use_data_dir):
    use_data_dir(tmp_path)
    at = app()
    assert not at.exception
    assert any("python -m dashboard snapshot" in i.value for i in at.info)


def _altered_copy(demo_data_dir, tmp_path, sql: str):
    """A copy of the demo snapshots whose live snapshot was changed by ``sql``."""
    import shutil

    import duckdb

    from dashboard.snapshot import current_snapshot

    shutil.copytree(demo_data_dir / "snapshots", tmp_path / "snapshots")
    con = duckdb.connect(str(current_snapshot(tmp_path / "snapshots")))
    con.execute(sql)
    con.close()
    return tmp_path


def test_snapshot_of_an_older_layout_asks_for_a_rebuild(demo_data_dir, tmp_path, use_data_dir):
    # As an older version left it: no layout recorded, no segments (its tables were in its own file).
    use_data_dir(_altered_copy(demo_data_dir, tmp_path, "ALTER TABLE snapshot_meta DROP COLUMN layout; "
                                                        "DROP TABLE snapshot_segments"))
    at = app()
    assert not at.exception
    assert any("älteren Programmversion" in w.value for w in at.warning)
    assert not at.metric


def test_stale_snapshot_warns(demo_data_dir, tmp_path, use_data_dir):
    use_data_dir(_altered_copy(demo_data_dir, tmp_path,
                               "UPDATE snapshot_meta SET built_at = built_at - INTERVAL 25 HOUR"))
    at = app()
    assert any("älter als 24 Stunden" in w.value for w in at.sidebar.warning)


def test_requests_filter_and_drill_down(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = app("views/requests.py")
    assert len(_chart_values(at, 0, "x")) > 1  # open requests of every right
    received = _received(at)
    at.multiselect(key="requests_rights").set_value(["erasure"]).run()
    assert not at.exception
    queue = at.dataframe[0].value
    assert len(queue) > 0 and set(queue["right"]) == {"Löschung (Art. 17)"}
    # the charts follow the filters: the bars count the queue, the monthly flow is narrower
    assert _chart_values(at, 0, "x") == {"Löschung (Art. 17)"}
    assert sum(sum(_array(trace["y"])) for trace in _traces(at, 0)) == len(queue)
    assert 0 < _received(at) < received

    at.session_state["requests_queue"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert any(s.value.startswith("Anfrage ") for s in at.subheader)
    assert "Rechnungen" in [m.label for m in at.metric]
    assert "Auskunftspaket Art. 15 (ZIP)" in [b.label for b in at.button]  # answer it from here


def _received(at: AppTest) -> int:
    """The requests received over the 24 months of the monthly chart."""
    return sum(next(_array(tr["y"]) for tr in _traces(at, 1) if tr["name"] == "Eingegangen"))


def test_requests_drill_down_masks_names_for_management(demo_data_dir, use_data_dir, monkeypatch):
    use_data_dir(demo_data_dir)
    monkeypatch.setenv("DASHBOARD_DEMO_ROLE", "management")
    at = app("views/requests.py")
    at.session_state["requests_queue"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    text = " ".join(str(m.value) for m in [*at.markdown, *at.text])
    assert "@" not in text and "•••" not in text
    assert any(c.value == "Für Ihre Rolle nicht sichtbar." for c in at.caption)
    # no footprint of zeros: a masked figure is not shown at all
    assert not {"Tickets", "Verträge", "Rechnungen"} & {m.label for m in at.metric}
    assert "Auskunftspaket Art. 15 (ZIP)" not in [b.label for b in at.button]
    assert at.query_params["request"]  # the selected request is in the URL


def test_exports_page_runs_a_job_to_its_download(demo_data_dir, use_data_dir):
    import time

    from dashboard import jobs

    use_data_dir(demo_data_dir)
    at = app("views/exports.py")
    assert not at.exception
    store = jobs.JobStore(demo_data_dir / "state" / "jobs.sqlite", demo_data_dir / "exports")
    before = len(store.list())
    at.text_input(key="exports_subject").set_value("Max Mustermann").run()  # nobody of that name
    assert any("Keine betroffene Person passt" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "export_art15"] and len(store.list()) == before  # no job
    at.text_input(key="exports_subject").set_value("C00000001").run()
    assert at.radio(key="exports_subject_choice").value == "C00000001"
    at.button(key="export_art15").click().run()
    assert not at.exception
    job = store.list()[0]
    assert (job.kind, job.params, job.requested_by) == ("subject_access", {"contact_id": "C00000001", "lang": "de"},
                                                        "demo:dpo")
    deadline = time.monotonic() + 30
    while store.get(job.id).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert store.get(job.id).status == "succeeded"
    at.run()
    downloads = at.get("download_button")
    package = next(d.proto.label for d in downloads if "auskunft_art15_C00000001.zip" in d.proto.label)
    # A ZIP of a person's records says how many records it holds, not "Zeilen".
    assert re.search(r"\(\d+ Datensätze, [\d,]+ [KM]?B\)$", package) and "Zeilen" not in package, package
    assert any("Audit-Trail" in h.value for h in at.subheader)


def test_erasure_not_carried_out_opens_its_drill_down(demo_data_dir, use_data_dir):
    """R3.6: the completed erasure request is not in the open queue; its finding lists it, and its
    drill-down says which systems still hold the data."""
    use_data_dir(demo_data_dir)
    at = app("views/requests.py")
    assert any(s.value.startswith("Löschung abgeschlossen, aber nicht umgesetzt") for s in at.subheader)
    listed = at.dataframe[1].value  # [0] is the queue
    row = list(listed["request_id"]).index("DSR-DEMO-13-erasure-not-done")
    at.session_state["requests_erasures"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert any("nicht umgesetzt: 3 Datensätze noch in" in e.value for e in at.error)
    # Why: the helpdesk's deletion task failed and billing's is still in process.
    proof = " ".join(m.value for m in at.markdown)
    assert "fehlgeschlagen (angelegt" in proof and "in Bearbeitung seit" in proof, proof
    # Every completed erasure request's proof, as the accountability file lists it.
    proofs = next(e for e in at.expander if e.label.startswith("Löschnachweise ("))
    assert not proofs.children  # folded: built only when opened
    at.session_state["requests_proofs_open"] = True
    at.run()
    proofs = next(e for e in at.expander if e.label.startswith("Löschnachweise ("))
    listed = proofs.dataframe[0].value
    assert set(listed["system"]) == {"Helpdesk", "Verträge & Abrechnung"}
    assert set(listed["state"]) == {"gelöscht", "fehlgeschlagen", "in Bearbeitung"}
    # Section 5: the subject's invoices are restricted, not erased, each until its retained-until date.
    assert any(i.value.startswith("Eingeschränkt statt gelöscht (gesetzliche Aufbewahrungspflicht): 1 Datensatz,")
               for i in at.info)
    restricted = next(d.value for d in at.dataframe if "restricted_until" in d.value.columns)
    invoice = restricted[restricted["record_id"] == "R-DEMO-4"]
    assert str(invoice["restricted_until"].iloc[0])[:10] == "2036-12-31"


def test_dpo_refreshes_the_data_in_the_background(demo_data_dir, tmp_path, use_data_dir, monkeypatch):
    """"Datenstand aktualisieren": the build runs as a job, a second request while it runs gets the
    same job, the sidebar shows the rows read and rejected (and which tables' files had not changed
    since the last build), and the new snapshot is live."""
    import shutil
    import time

    from dashboard import access, jobs
    from dashboard.build import build_snapshot
    from dashboard.schema import TABLES
    from dashboard.snapshot import current_snapshot

    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    build_snapshot(data_dir=tmp_path)  # the nightly build: the live snapshot the next one copies from
    with (tmp_path / "demo" / "helpdesk" / "tickets.csv").open("a", encoding="utf-8") as tickets:
        tickets.write("T-new;broken\n")  # only the tickets changed since
    use_data_dir(tmp_path)
    before = current_snapshot(tmp_path / "snapshots")
    at = app()
    at.button(key="refresh_snapshot").click().run()
    assert not at.exception
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    job = store.latest(jobs.REFRESH)
    assert (job.kind, job.requested_by) == ("snapshot", "demo:dpo")
    with pytest.raises(access.AccessDenied):
        store.create_refresh("boss", "management")
    # A second request while a build is under way (by anyone) gets that build, never a second one:
    # checked on a store of its own, where the first build stays queued (no worker runs it).
    other = jobs.JobStore(tmp_path / "other" / "jobs.sqlite", tmp_path / "other" / "exports")
    first, created = other.create_refresh("demo:dpo", "dpo")
    again, created_again = other.create_refresh("someone-else", "dpo")
    assert created and not created_again and again.id == first.id
    deadline = time.monotonic() + 60
    while store.get(job.id).status in jobs.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.2)
    assert store.get(job.id).status == "succeeded"
    at.run()
    assert not at.exception
    assert current_snapshot(tmp_path / "snapshots") != before
    assert any(s.value.startswith("Datenstand aktualisiert:") and "abgewiesen" in s.value for s in at.success)
    assert any("gelesen aus: fixture" not in c.value and "gelesen aus:" in c.value for c in at.caption)
    per_table = "\n".join(x.value for x in at.text).splitlines()
    assert [line.split(":")[0] for line in per_table if "unverändert" in line] == [
        t.name for t in TABLES if t.name != "tickets"]
    assert any(line.startswith("tickets:") and "unverändert" not in line for line in per_table)
    assert store.list() == []  # a build is not an export


def test_warm_up_leaves_the_overview_nothing_to_compute(demo_data_dir, use_data_dir, monkeypatch):
    """After the background warm-up saw a snapshot, the overview's first view runs no query of its own."""
    import threading

    from dashboard import data
    from dashboard.snapshot import usable_snapshot
    from dashboard.ui import live, warmup

    use_data_dir(demo_data_dir)
    live._cached_query.clear()
    live._cached_page.clear()
    warmup.warm(str(usable_snapshot(demo_data_dir / "snapshots").path))
    ran = []
    real = data.run

    def recorded(con, name, **params):
        # Only the page's own queries: a warm-up thread an earlier test started (for its own folder)
        # may be warming meanwhile, and data.run is patched for the whole process.
        if threading.current_thread().name != "cache-warmup":
            ran.append(name)
        return real(con, name, **params)

    monkeypatch.setattr(data, "run", recorded)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and len(at.metric) == 11
    headline = {"requests_kpis", "retention_summary", "consent_summary", "incident_clock_counts", "incident_kpis"}
    assert not headline & set(ran), ran


def test_the_server_is_warm_before_it_listens(demo_data_dir, use_data_dir, monkeypatch):
    """``dashboard serve`` computes the live snapshot's headline figures before Streamlit answers its health
    check, so sessions arriving together at a freshly started server find them made (issue 41.4)."""
    import threading

    from dashboard import data, serve
    from dashboard.ui import live, warmup

    use_data_dir(demo_data_dir)
    live._cached_query.clear()
    live._cached_page.clear()
    warmup.start.clear()  # a warm-up this process started for the folder before: a server starts its own
    ran = []
    real = data.run

    def recorded(con, name, **params):
        ran.append((threading.current_thread().name, name))
        return real(con, name, **params)

    monkeypatch.setattr(data, "run", recorded)
    serve._warm_before_listening()
    headline = {"requests_kpis", "retention_summary", "consent_summary", "incident_clock_counts", "incident_kpis"}
    assert headline <= {name for thread, name in ran if thread == "cache-warmup"}, ran
    ran.clear()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and len(at.metric) == 11
    assert not headline & {name for thread, name in ran if thread != "cache-warmup"}, ran


def test_a_link_to_an_unknown_request_says_so(demo_data_dir, use_data_dir):
    use_data_dir(demo_data_dir)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/requests.py")
    at.query_params["request"] = "DSR-GIBT-ES-NICHT"  # an old link
    at.run()
    assert not at.exception
    assert any("DSR\\-GIBT\\-ES\\-NICHT" in w.value and "nicht enthalten" in w.value for w in at.warning)


def test_one_page_run_reads_one_snapshot_while_the_pointer_swaps(demo_data_dir, tmp_path, use_data_dir, monkeypatch):
    """A new snapshot is published between every two reads of the pointer (the worst case of
    publishes in quick succession); each run of the app still reads every figure, the sidebar's
    Datenstand included, from one snapshot."""
    import itertools
    import shutil
    import threading

    from dashboard import data
    from dashboard.build import build_snapshot
    from dashboard.ui import live, signin

    shutil.copytree(demo_data_dir / "demo", tmp_path / "demo")
    paths = [str(build_snapshot(data_dir=tmp_path).path), str(build_snapshot(data_dir=tmp_path).path)]
    use_data_dir(tmp_path)
    published = itertools.cycle(paths)
    monkeypatch.setattr(live, "_live_key", lambda: (next(published), 0, 0))  # the pointer moves at every read
    monkeypatch.setattr(live, "_usable", lambda path, _size, _mtime: (Path(path), None))
    connections, seen = {}, []

    def connect(path: str):
        return connections.setdefault(path, data.connect(Path(path)))

    def record(path: str) -> None:  # what the page run reads, not the cache warm-up thread beside it
        if threading.current_thread().name != "cache-warmup":
            seen.append(path)

    def query(path, name, params):  # the pages' cached reads, uncached and recorded
        record(path)
        return data.run(connect(path), name, **dict(params))

    def page(path, name, limit, params):
        record(path)
        return data.run_page(connect(path), name, limit, **dict(params))

    monkeypatch.setattr(live, "_cached_query", query)
    monkeypatch.setattr(live, "_cached_page", page)
    monkeypatch.setattr(signin, "_cached_query", query)
    at = AppTest.from_file(APP, default_timeout=60)
    for view in (None, "views/retention.py", "views/requests.py"):  # each run its own snapshot, one only
        seen.clear()
        (at.switch_page(view) if view else at).run()
        assert not at.exception
        assert len(seen) > 3 and len(set(seen)) == 1, (view, len(seen), len(set(seen)))


@pytest.mark.parametrize("page", ["views/requests.py", "views/incidents.py"])
def test_deadlines_calendar_is_offered_to_the_dpo_only(demo_data_dir, use_data_dir, monkeypatch, page):
    """"Fristen als Kalender (.ics)" on Betroffenenanfragen and Datenpannen, for the DPO."""
    use_data_dir(demo_data_dir)
    labels = [d.proto.label for d in app(page).get("download_button")]
    assert "Fristen als Kalender (.ics)" in labels
    monkeypatch.setenv("DASHBOARD_DEMO_ROLE", "management")
    labels = [d.proto.label for d in app(page).get("download_button")]
    assert "Fristen als Kalender (.ics)" not in labels


@pytest.mark.parametrize("page, charts", [("views/requests.py", [1]), ("views/consent.py", [0, 1])])
def test_the_running_month_is_marked_in_monthly_charts(demo_data_dir, use_data_dir, page, charts):
    """The month of the page's date has only been counted so far: shaded and labelled, not read as a fall."""
    import json

    use_data_dir(demo_data_dir)
    at = app(page)
    assert not at.exception
    from dashboard.deadlines import BERLIN

    today = dt.datetime.now(BERLIN).date()
    last_day = (today + dt.timedelta(days=1)).month != today.month
    for index in charts:
        layout = json.loads(at.get("plotly_chart")[index].proto.spec)["layout"]
        labels = [a.get("text", "") for a in layout.get("annotations", [])]
        assert any(text == f"laufender Monat (bis {today:%d.%m.})" for text in labels) != last_day, labels


def test_a_page_says_which_rows_it_lost_to_validation(tmp_path, monkeypatch):
    """A closed breach without closed_at is set aside (R2.4b): Datenpannen says one row is missing from
    its figures and links the DPO to Datenqualität; management, who may not open that page, gets no link."""
    from dashboard.build import build_snapshot
    from tests.helpers import DPO, SIGNED, signed_in_app, write_store

    breach = {"incident_id": "INC-1", "title": "Laptop", "type": "confidentiality",
              "detected_at": "2026-11-01T08:00:00Z", "aware_at": "2026-11-01T09:00:00Z", "risk": "risk",
              "status": "notified", "authority_notified_at": "2026-11-02T09:00:00Z"}
    sources = write_store(tmp_path / "src", {"incidents": [breach, {**breach, "incident_id": "INC-2",
                                                                      "status": "closed"}]})
    build_snapshot(sources, data_dir=tmp_path)
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    at = signed_in_app(monkeypatch, DPO, "views/incidents.py")
    assert not at.exception
    warning = next(w.value for w in at.warning if "nicht übernommen" in w.value)
    assert warning.startswith("1 Zeile der Quellen wurde") and "Datenpannen (1)" in warning
    assert [link.label for link in at.get("page_link")] == ["Datenqualität"]
    boss = signed_in_app(monkeypatch, {**SIGNED, "email": "geschaeftsfuehrung@aelvirionek.example"},
                         "views/incidents.py")
    assert any("nicht übernommen" in w.value for w in boss.warning) and not boss.get("page_link")
    assert not [w for w in at.switch_page("views/consent.py").run().warning if "nicht übernommen" in w.value]
    # Datenqualität says why, in the UI's language.
    rejected = at.switch_page("views/quality.py").run().dataframe[-1].value
    assert rejected[["table_name", "record_key", "reason"]].values.tolist() == [
        ["Datenpannen", "INC-2", "Abgeschlossen, aber ohne Abschlusszeitpunkt"]]


def test_exporte_tells_management_and_the_auditor_that_others_jobs_are_not_listed(demo_data_dir, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(demo_data_dir))
    monkeypatch.setenv("DASHBOARD_AUTH", "demo")
    for role, says in (("management", True), ("auditor", True), ("dpo", False)):
        monkeypatch.setenv("DASHBOARD_DEMO_ROLE", role)
        at = app("views/exports.py")
        assert not at.exception
        assert any("nur Ihre eigenen Export-Aufträge" in c.value for c in at.caption) is says, role


def test_an_unchanged_rate_shows_no_change_not_a_green_plus(demo_data_dir, use_data_dir):
    """A rate that did not move shows "0" (grey, no arrow), never "+0,0 Pp." with an upward arrow."""
    from dashboard.ui.formats import fmt_delta

    use_data_dir(demo_data_dir)
    at = app("views/consent.py")
    assert not at.exception
    deltas = [m.proto.delta for m in at.metric if m.proto.delta]
    assert deltas and not [d for d in deltas if d.startswith(("+0,0", "-0,0", "+0.0", "-0.0"))], deltas
    assert fmt_delta(0.45, 0.44, points=True) == "0" and fmt_delta(5, 5) == "0"
    assert fmt_delta(0.5, 0.3, points=True).startswith("+0,2")


def test_times_read_as_an_office_writes_them(demo_data_dir, use_data_dir):
    """"07.12.2026, 02:22 Uhr" on the page: no seconds, no offset (files keep both)."""
    import re

    use_data_dir(demo_data_dir)
    at = app()
    stand = next(c.value for c in at.caption if c.value.startswith("Datenstand:"))
    assert re.fullmatch(r"Datenstand: \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr", stand), stand
