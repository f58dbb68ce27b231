"""Exporte: placeholder until the export-jobs issue lands; every list has a direct CSV download."""

from __future__ import annotations

import streamlit as st

from dashboard.ui import t


def render() -> None:
    st.title(t("exports.title"))
    st.info(t("exports.pending_issue"))


render()
