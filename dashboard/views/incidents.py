"""Datenpannen: the incident register and the 72-hour notification clock (R2)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import ui
from dashboard.ui import t

REGISTER_LIMIT = 500
MOMENTS = ("detected_at", "aware_at", "notification_deadline", "authority_notified_at", "subjects_informed_at")


def render() -> None:
    st.title(t("incidents.title"))
    warning_hours = ui.policy().settings.breach_warning_hours
    as_of = ui.now()
    clocks = ui.query("incident_clock_counts", as_of=as_of, warning_hours=warning_hours)
    by_clock = dict(zip(clocks["clock"], clocks["incidents"], strict=True))
    statuses = ("overdue", "warning", "open", "notified_late", "notified_on_time", "not_required")
    for col, status in zip(st.columns(len(statuses)), statuses, strict=True):
        col.metric(ui.coded("status", status), ui.fmt_int(by_clock.get(status, 0)))
    chart = ui.translate(clocks, clock="status")
    st.plotly_chart(px.bar(chart.to_pandas(), x="clock", y="incidents", title=t("incidents.clock_chart"),
                           labels={"clock": "", "incidents": t("nav.incidents")}), width="stretch")

    st.subheader(t("incidents.register"))
    register = ui.query("incident_register", as_of=as_of, warning_hours=warning_hours, limit=REGISTER_LIMIT)
    shown = ui.translate(
        register.with_columns(register[c].map_elements(ui.fmt_moment, return_dtype=str) for c in MOMENTS),
        type="breach_type", risk="risk", clock="status",
    )
    ui.show_table(shown)
    ui.csv_download("incident_register", "datenpannen_register.csv", key="incidents_csv",
                    as_of=as_of, warning_hours=warning_hours, limit=None)


render()
