"""Streamlit entry point: ``streamlit run dashboard/app.py``.

Signs the viewer in (dashboard.access decides the role), registers with ``st.navigation`` the
pages that role may use (the others only as a hidden page saying it may not open them), and renders the shared
sidebar. When no snapshot has been published yet, it says how to build one instead of failing.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, pages, paths, ui
from dashboard.ui import keys, media, t, warmup

paths.private_umask()

st.set_page_config(page_title="DSGVO-Cockpit", page_icon=":material/shield:", layout="wide")

def _forbidden(title_key: str):
    """A page the role may not open: its URL says so (hidden from the menu) instead of silently
    showing the overview."""
    def forbidden() -> None:
        st.title(t(title_key))
        st.error(t("app.page_forbidden", page=t(title_key), role=ui.coded("role", ui.role())), icon=":material/block:")

    forbidden.__name__ = f"forbidden_{title_key.replace('.', '_')}"
    return forbidden


# Figure titles wrap instead of ending in "…" at 1440 px (six tiles a row on some pages); nothing else
# of Streamlit's look is changed but the empty date fields.
st.html("<style>[data-testid=stMetricLabel], [data-testid=stMetricLabel] * "
        "{white-space: normal !important; overflow: visible !important; text-overflow: clip !important; "
        "height: auto !important;}"
        # An empty date filter shows no "dd.mm.yyyy" (its label says what it takes): a segment not filled in,
        # and the dot after it, are blank until the field is focused. (A rule with :has() did the same for
        # the whole field but slowed every page's paint: the browser re-checks it on each change.)
        "[data-testid=stDateInputFieldsScroller]:not(:focus-within) [data-placeholder=true], "
        "[data-testid=stDateInputFieldsScroller]:not(:focus-within) [data-placeholder=true] + [data-type=literal] "
        "{color: transparent;}</style>")

keys.enter_applies_dates()  # a typed date applies on Enter, as users expect
media.short_lived_downloads()  # a download's file is deleted seconds after it was made
warmup.start(str(paths.snapshots_dir()))  # fills the caches for each new snapshot, before anyone asks
ui.language_switch()
ui.pin_snapshot()  # one snapshot for everything this run shows
with ui.error_boundary():  # every page runs inside it: known errors explained, the rest with an id
    if ui.snapshot_outdated():
        st.title(t("app.title"))
        st.warning(t("app.outdated_snapshot"))
        st.stop()
    role = ui.sign_in()
    if role is None:
        st.stop()
    allowed = set(access.pages_for(role))
    navigation = st.navigation([
        st.Page(page.script, title=t(page.label), url_path=page.id, icon=page.icon, default=page.id == pages.DEFAULT)
        if page.id in allowed else st.Page(_forbidden(page.label), title=t(page.label), url_path=page.id,
                                           visibility="hidden")
        for page in pages.PAGES
    ])
    ui.sidebar()
    if ui.no_readable_snapshot():
        st.title(t("app.title"))
        st.error(t("app.snapshot_unreadable", reason=ui.md(ui.snapshot_fallback())))
        st.stop()
    if ui.live_snapshot() is None:
        st.title(t("app.title"))
        st.info(t("app.no_snapshot"))
        st.stop()
    navigation.run()
