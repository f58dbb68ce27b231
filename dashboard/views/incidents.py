"""Datenpannen: the incident register and the 72-hour notification clock (R2)."""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboard import deadlines, ui
from dashboard.deadlines import BERLIN
from dashboard.ui import t

REGISTER_LIMIT = 500
CLOCKS = deadlines.BREACH_CLOCKS
MOMENTS = ("detected_at", "aware_at", "notification_deadline", "authority_notified_at", "subjects_informed_at")
TIMELINE = ("detected_at", "aware_at", "authority_notified_at", "subjects_informed_at", "contained_at", "closed_at")


def _as_of() -> dt.datetime:
    """A date and time in Europe/Berlin (default: now), the moment the clocks are read."""
    now = ui.now().astimezone(BERLIN)
    c1, c2, _ = st.columns([1, 1, 2])
    with c1:
        day = ui.as_of_input("incidents_as_of_day")
    moment = c2.time_input(t("incidents.as_of_time"), value=now.time().replace(second=0, microsecond=0),
                           key="incidents_as_of_time", step=dt.timedelta(minutes=15), bind="query-params")
    if day == now.date() and moment == now.time().replace(second=0, microsecond=0):
        return ui.now()
    return dt.datetime.combine(day, moment, BERLIN).astimezone(dt.UTC)


def _figures(as_of: dt.datetime, warning_hours: int) -> None:
    clocks = ui.query("incident_clock_counts", as_of=as_of, warning_hours=warning_hours)
    open_by_clock = dict(zip(clocks["clock"], clocks["still_open"], strict=True))
    st.caption(t("incidents.open_by_clock"))
    for col, clock in zip(st.columns(len(CLOCKS)), CLOCKS, strict=True):
        col.metric(ui.coded("status", clock), ui.fmt_int(open_by_clock.get(clock, 0)))
    kpi = ui.query("incident_kpis", as_of=as_of, warning_hours=warning_hours).row(0, named=True)
    st.caption(t("incidents.last_12_months"))
    cols = st.columns(5)
    cols[0].metric(t("incidents.on_time_pct"), ui.fmt_pct(kpi["on_time_pct"]),
                   help=t("incidents.on_time_help", on_time=kpi["on_time"], decided=kpi["decided"]))
    cols[1].metric(t("incidents.median_notify"), ui.fmt_hours(kpi["median_hours_to_notify"]))
    cols[2].metric(t("incidents.p95_notify"), ui.fmt_hours(kpi["p95_hours_to_notify"]))
    cols[3].metric(t("incidents.median_aware"), ui.fmt_hours(kpi["median_hours_to_aware"]))
    cols[4].metric(t("incidents.late_without_reason"), ui.fmt_int(kpi["late_without_reason"]))


def _quarters(as_of: dt.datetime) -> None:
    ui.plot(ui.shared_figure(_quarters_figure, as_of=as_of))


def _quarters_figure(as_of: dt.datetime):
    quarters = ui.query("incident_quarters", as_of=as_of)
    shown = ui.translate(quarters.with_columns(
        label=pl.col("quarter").dt.year().cast(pl.String) + " Q" + pl.col("quarter").dt.quarter().cast(pl.String)),
        type="breach_type")
    fig = px.bar(shown.to_pandas(), x="label", y="breaches", color="type", title=t("incidents.by_quarter"),
                 category_orders={"label": sorted(shown["label"].unique())},
                 labels={"label": t("incidents.quarter"), "breaches": t("incidents.breaches"), "type": t("col.type")})
    return ui.style(fig)


def _register(as_of: dt.datetime, warning_hours: int) -> str | None:
    st.subheader(t("incidents.register"))
    clocks = ui.pick(st, t("col.clock"), CLOCKS, key="incidents_clocks",
                     format_func=lambda c: ui.coded("status", c),
                     on_change=ui.bind_to_url("incidents_clocks", "clock", CLOCKS, many=True))
    # The 72-hour figure counts the breaches of the last 12 months: its link switches this on.
    window = st.toggle(t("incidents.register_last_12_months"), key="incidents_window",
                       on_change=ui.bind_to_url("incidents_window", "window", flag=True))
    params = dict(as_of=as_of, warning_hours=warning_hours, clocks=clocks, window_months=12 if window else None)
    page = ui.query_page("incident_register", REGISTER_LIMIT, **params)
    ui.list_export("incident_register", f"datenpannen_register_{as_of:%Y%m%dT%H%M}.csv", key="incidents_csv",
                   total=page.total, **params)
    ui.deadlines_calendar(key="incidents_ics")
    event = ui.show_table(ui.with_moments(page.frame, MOMENTS), total=page.total, key="incidents_register",
                          list_name="incident_register")
    return ui.selected_in_url(event, page.frame["incident_id"].to_list(), "incident", "incidents_register")


def _timeline(incident_id: str, as_of: dt.datetime, warning_hours: int) -> None:
    row = ui.linked_row(ui.query("incident_detail", incident_id=incident_id, as_of=as_of, warning_hours=warning_hours),
                        "incidents.not_found", incident_id=incident_id)
    if row is None:
        return
    with st.container(border=True, key="incident_detail"):
        st.subheader(t("incidents.timeline", incident_id=ui.md(incident_id)))
        _clock(row, as_of)
        st.plotly_chart(_timeline_figure(row, as_of), width="stretch", config={"displaylogo": False})
        _moments(row)
        if row["delay_reason"]:
            st.caption(f"{t('col.delay_reason')}: {ui.md(row['delay_reason'])}")


def _clock(row: dict, as_of: dt.datetime) -> None:
    """The 72-hour clock and the Art. 34 status as they stood at the page's moment, in words that wrap
    (a figure tile would cut them) and in the colour of their state; an outstanding notice of the
    subjects is red and says how long it has been outstanding since awareness."""
    cols = st.columns(3)
    clock = ui.coded("status", row["clock"]) if row["clock"] else "–"
    ui.status_text(cols[0], t("col.clock"), clock, ui.CLOCK_COLOURS.get(row["clock"]))
    if row["hours_left"] is not None:
        cols[1].metric(t("col.hours_left"), ui.fmt_hours(row["hours_left"]))
    elif row["hours_late"] is not None:
        cols[1].metric(t("col.hours_late"), ui.fmt_hours(row["hours_late"]))
    art34 = ui.coded("art34", row["art34"]) if row["art34"] else "–"
    if row["art34"] == "outstanding" and row["aware_at"] is not None:
        days = (as_of - row["aware_at"]).days
        art34 = t("incidents.art34_outstanding_since", status=art34, days=ui.fmt_int(days))
    ui.status_text(cols[2], t("col.art34"), art34, ui.ART34_COLOURS.get(row["art34"]))


def _timeline_figure(row: dict, as_of: dt.datetime) -> go.Figure:
    """The moments on a line; their labels alternate above and below on staggered heights, so moments
    hours apart (detected, aware, contained) stay readable."""
    points = sorted(((t(f"col.{name}"), row[name].astimezone(BERLIN)) for name in TIMELINE if row[name] is not None),
                    key=lambda p: p[1])
    fig = go.Figure(go.Scatter(x=[p[1] for p in points], y=[0] * len(points), mode="markers",
                               marker={"size": 12, "color": "#1565c0"},
                               hovertext=[f"{p[0]}: {ui.fmt_moment(p[1])}" for p in points], hoverinfo="text"))
    for i, (label, moment) in enumerate(points):
        above = i % 2 == 0
        lift = 28 + 22 * ((i // 2) % 3)
        fig.add_annotation(x=moment, y=0, text=label, showarrow=True, arrowhead=0, arrowcolor="#90a4ae",
                           ax=0, ay=-lift if above else lift, font={"color": "#1565c0"},
                           bgcolor="rgba(255,255,255,0.85)")
    deadline = row["notification_deadline"]
    if deadline is not None:
        fig.add_vrect(x0=row["aware_at"].astimezone(BERLIN), x1=deadline.astimezone(BERLIN),
                      fillcolor="#fff3e0", line_width=0, layer="below")
        _marker(fig, deadline, t("incidents.deadline_marker", moment=ui.fmt_moment(deadline)), "#c62828", "dash")
    _marker(fig, as_of, t("incidents.now_marker", moment=ui.fmt_moment(as_of)), "#1b1f24", "dot", y=0.92)
    fig.update_yaxes(visible=False, range=[-1.6, 1.6])
    fig.update_xaxes(title=t("incidents.time_axis"), tickformat=ui.CHART_FORMATS["moment"][ui.lang()])
    fig.update_layout(height=340, showlegend=False, margin={"t": 40}, separators=",." if ui.lang() == "de" else ".,")
    return fig


def _moments(row: dict) -> None:
    """Every moment of the breach as a line of text, in order: exact where the chart is crowded."""
    points = sorted(((t(f"col.{name}"), row[name]) for name in TIMELINE if row[name] is not None), key=lambda p: p[1])
    st.caption(" · ".join(f"{label}: {ui.fmt_moment(moment)}" for label, moment in points))


def _marker(fig: go.Figure, moment: dt.datetime, text: str, colour: str, dash: str, y: float = 1.0) -> None:
    fig.add_vline(x=moment.astimezone(BERLIN), line_color=colour, line_dash=dash)
    fig.add_annotation(x=moment.astimezone(BERLIN), y=y, yref="paper", showarrow=False, yanchor="bottom",
                       text=text, font={"color": colour})


def render() -> None:
    st.title(t("incidents.title"))
    ui.rows_set_aside("datenpannen")  # rows the snapshot set aside are missing here: say so
    warning_hours = ui.policy().settings.breach_warning_hours
    as_of = _as_of()
    _figures(as_of, warning_hours)
    _quarters(as_of)
    selected = _register(as_of, warning_hours)
    if selected:  # right under the register; a link or a reload opens it again, in view
        _timeline(selected, as_of, warning_hours)
        ui.bring_into_view("incident_detail", f"incident:{selected}")
    else:
        st.caption(t("requests_page.select_hint"))


render()
