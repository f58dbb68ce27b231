"""Betroffenenanfragen: open requests against their statutory deadlines (R1)."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.ui import t

QUEUE_LIMIT = 500


def render() -> None:
    st.title(t("requests.title"))
    settings = ui.policy().settings
    as_of = ui.as_of_input("requests_as_of")
    kpi = ui.query("requests_kpis", as_of=as_of, due_soon_days=settings.due_soon_days).row(0, named=True)
    cols = st.columns(6)
    cols[0].metric(t("requests.open"), ui.fmt_int(kpi["open"]))
    cols[1].metric(t("requests.overdue"), ui.fmt_int(kpi["overdue"]))
    cols[2].metric(t("requests.due_soon", days=settings.due_soon_days), ui.fmt_int(kpi["due_soon"]))
    cols[3].metric(t("requests.on_time"), ui.fmt_pct(kpi["on_time_pct_90d"]))
    cols[4].metric(t("requests.median_days"), ui.fmt_int(kpi["median_days_90d"]))
    cols[5].metric(t("requests.hidden"), ui.fmt_int(kpi["hidden"]))

    st.subheader(t("requests.queue"))
    show_hidden = st.toggle(t("requests.show_hidden"), key="requests_show_hidden")
    queue = ui.query("request_queue", as_of=as_of, due_soon_days=settings.due_soon_days,
                     show_hidden=show_hidden, limit=QUEUE_LIMIT)
    shown = ui.translate(queue, right="right", channel="channel", extension="extension", clock="status",
                         status="request_status")
    total = kpi["open"] + (kpi["hidden"] if show_hidden else 0)
    ui.show_table(shown, total=total, dates=("received_date", "due", "extended_due", "deadline"))
    ui.csv_download(queue, f"betroffenenanfragen_{as_of.isoformat()}.csv", key="requests_csv")


render()
