"""Übersicht: the headline figures of every area, from the same queries as the detail pages."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.ui import t


def render() -> None:
    st.title(t("app.title"))
    st.caption(t("overview.intro"))
    settings = ui.policy().settings
    as_of = ui.today()
    req = ui.query("requests_kpis", as_of=as_of, due_soon_days=settings.due_soon_days).row(0, named=True)
    ret = ui.query("retention_summary", as_of=as_of, window_days=settings.approaching_days, categories=[],
                   systems=[])
    consent = ui.query("consent_summary", as_of=as_of)
    clocks = ui.query("incident_clock_counts", as_of=ui.now(), warning_hours=settings.breach_warning_hours)
    by_clock = dict(zip(clocks["clock"], clocks["still_open"], strict=True))

    st.subheader(t("nav.requests"))
    c1, c2, c3 = st.columns(3)
    c1.metric(t("overview.requests_open"), ui.fmt_int(req["open"]))
    c2.metric(t("overview.requests_overdue"), ui.fmt_int(req["overdue"]))
    c3.metric(t("requests.on_time"), ui.fmt_pct(req["on_time_pct_90d"]))

    st.subheader(t("nav.retention"))
    c1, c2 = st.columns(2)
    c1.metric(t("overview.deletion_backlog"), ui.fmt_int(ret["due"].sum()))
    c2.metric(t("overview.approaching", days=settings.approaching_days), ui.fmt_int(ret["approaching"].sum()))

    st.subheader(t("nav.consent"))
    cols = st.columns(max(consent.height, 1))
    for col, row in zip(cols, consent.iter_rows(named=True), strict=False):
        col.metric(t("overview.consent_rate", purpose=ui.coded("purpose", row["purpose"])),
                   ui.fmt_pct(row["consent_rate_pct"]))

    st.subheader(t("nav.incidents"))
    c1, c2 = st.columns(2)
    c1.metric(t("overview.incidents_open"), ui.fmt_int(by_clock.get("open", 0) + by_clock.get("warning", 0)))
    c2.metric(t("overview.incidents_overdue"), ui.fmt_int(by_clock.get("overdue", 0)))


render()
