"""Einwilligungen: consent rates per purpose (R4)."""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.ui import t


def render() -> None:
    st.title(t("consent.title"))
    as_of = ui.as_of_input("consent_as_of")
    summary = ui.query("consent_summary", as_of=as_of)
    for row in summary.iter_rows(named=True):
        st.subheader(ui.coded("purpose", row["purpose"]))
        cols = st.columns(5)
        cols[0].metric(t("consent.rate"), ui.fmt_pct(row["consent_rate_pct"]))
        cols[1].metric(t("consent.active"), ui.fmt_int(row["active"]))
        cols[2].metric(t("consent.pending"), ui.fmt_int(row["pending"]))
        cols[3].metric(t("consent.withdrawn"), ui.fmt_int(row["withdrawn"]))
        if row["purpose"] == "newsletter":
            cols[4].metric(t("consent.confirmed"), ui.fmt_pct(row["confirmed_pct"]))


render()
