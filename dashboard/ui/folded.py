"""A collapsed section whose content is built only while it is open.

Streamlit sends everything inside an expander to the browser even when it is closed: a table nobody
opened still costs its query, its transfer and the browser's render on every page load, before the
page's first figures show. A folded section reruns the page when it is opened or closed and draws its
content only while open (Streamlit's stateful expander, ``on_change="rerun"``).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def folded(label: str, key: str, draw: Callable[[], None]) -> None:
    """An expander ``label`` (its open state kept under ``key``) whose content ``draw`` builds only while
    it is open."""
    section = st.expander(label, key=key, on_change="rerun")
    if section.open:
        with section:
            draw()
