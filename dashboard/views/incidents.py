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
                           key="incidents_as_of_time", step=dt.timedelta(minutes=15))
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
    quarters = ui.query("incident_quarters", as_of=as_of)
    shown = ui.translate(quarters.with_columns(
        label=pl.col("quarter").dt.year().cast(pl.String) + " Q" + pl.col("quarter").dt.quarter().cast(pl.String)),
        type="breach_type")
    fig = px.bar(shown.to_pandas(), x="label", y="breaches", color="type", title=t("incidents.by_quarter"),
                 labels={"label": t("incidents.quarter"), "breaches": t("incidents.breaches"), "type": t("col.type")})
    st.plotly_chart(fig, width="stretch")


def _register(as_of: dt.datetime, warning_hours: int) -> str | None:
    st.subheader(t("incidents.register"))
    clocks = st.multiselect(t("col.clock"), CLOCKS, key="incidents_clocks", placeholder=t("app.all"),
                            format_func=lambda c: ui.coded("status", c),
                            on_change=ui.bind_to_url("incidents_clocks", "clock", CLOCKS, many=True))
    params = dict(as_of=as_of, warning_hours=warning_hours, clocks=clocks)
    page = ui.query_page("incident_register", REGISTER_LIMIT, **params)
    register = page.frame
    shown = ui.translate(ui.with_moments(register, MOMENTS), type="breach_type", risk="risk",
                         clock="status", art34="art34", status="incident_status")
    event = ui.show_table(shown, total=page.total, key="incidents_register",
                          titles={"status": "incidents.status"})
    ui.list_export("incident_register", f"datenpannen_register_{as_of:%Y%m%dT%H%M}.csv", key="incidents_csv",
                    **params)
    rows = event.selection.rows if event and event.selection else []
    return register["incident_id"][rows[0]] if rows else None


def _timeline(incident_id: str) -> None:
    detail = ui.query("incident_detail", incident_id=incident_id)
    if detail.is_empty():
        return
    row = detail.row(0, named=True)
    st.subheader(t("incidents.timeline", incident_id=ui.md(incident_id)))
    points = [(t(f"col.{name}"), row[name].astimezone(BERLIN)) for name in TIMELINE if row[name] is not None]
    fig = go.Figure(go.Scatter(x=[p[1] for p in points], y=[0] * len(points), mode="markers+text",
                               text=[p[0] for p in points], textposition="top center",
                               marker={"size": 12, "color": "#1565c0"},
                               hovertext=[ui.fmt_moment(p[1]) for p in points], hoverinfo="text"))
    deadline = row["notification_deadline"]
    if deadline is not None:
        fig.add_vrect(x0=row["aware_at"].astimezone(BERLIN), x1=deadline.astimezone(BERLIN),
                      fillcolor="#fff3e0", line_width=0, layer="below")
        fig.add_vline(x=deadline.astimezone(BERLIN), line_color="#c62828", line_dash="dash")
        fig.add_annotation(x=deadline.astimezone(BERLIN), y=1, yref="paper", showarrow=False, yanchor="bottom",
                           text=t("incidents.deadline_marker", moment=ui.fmt_moment(deadline)),
                           font={"color": "#c62828"})
    fig.update_yaxes(visible=False, range=[-1, 1.5])
    fig.update_xaxes(title=t("incidents.time_axis"))
    fig.update_layout(height=300, showlegend=False, margin={"t": 40})
    st.plotly_chart(fig, width="stretch")
    if row["delay_reason"]:
        st.caption(f"{t('col.delay_reason')}: {ui.md(row['delay_reason'])}")


def render() -> None:
    st.title(t("incidents.title"))
    warning_hours = ui.policy().settings.breach_warning_hours
    as_of = _as_of()
    _figures(as_of, warning_hours)
    _quarters(as_of)
    selected = _register(as_of, warning_hours)
    if selected:
        _timeline(selected)
    else:
        st.caption(t("requests_page.select_hint"))


render()
