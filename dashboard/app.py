"""Streamlit entry point: ``streamlit run dashboard/app.py``.

Registers the pages with ``st.navigation`` and renders the shared sidebar. When no snapshot has
been published yet, it says how to build one instead of failing.
"""

from __future__ import annotations

import streamlit as st

from dashboard import ui
from dashboard.ui import t

st.set_page_config(page_title="DSGVO-Cockpit", page_icon=":material/shield:", layout="wide")

# (page script relative to this file, label key, URL path, icon)
PAGES = (
    ("views/overview.py", "nav.overview", "uebersicht", ":material/dashboard:"),
    ("views/retention.py", "nav.retention", "loeschfristen", ":material/auto_delete:"),
    ("views/requests.py", "nav.requests", "anfragen", ":material/mail:"),
    ("views/consent.py", "nav.consent", "einwilligungen", ":material/how_to_reg:"),
    ("views/incidents.py", "nav.incidents", "datenpannen", ":material/report:"),
    ("views/exports.py", "nav.exports", "exporte", ":material/download:"),
    ("views/quality.py", "nav.quality", "datenqualitaet", ":material/fact_check:"),
)

navigation = st.navigation([
    st.Page(script, title=t(key), url_path=path, icon=icon, default=(path == "uebersicht"))
    for script, key, path, icon in PAGES
])
ui.sidebar()
if ui.live_snapshot() is None:
    st.title(t("app.title"))
    st.info(t("app.no_snapshot"))
    st.stop()
navigation.run()
