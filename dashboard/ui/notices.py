"""What a page says about rows it cannot show: the rows validation set aside from the tables its figures
read (``pages.Page.tables``), how many, and where they are listed (Datenqualität)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import access, pages
from dashboard.ui.formats import fmt_int
from dashboard.ui.live import query
from dashboard.ui.text import coded, t
from dashboard.ui.who import role


def rows_set_aside(page_id: str) -> None:
    """A warning when the snapshot set aside rows of this page's tables: they are missing from its figures."""
    tables = query("source_tables")
    lost = tables.filter(pl.col("table_name").is_in(list(pages.BY_ID[page_id].tables)) & (pl.col("rejected") > 0))
    if lost.is_empty():
        return
    names = ", ".join(f"{coded('table', row['table_name'])} ({fmt_int(row['rejected'])})"
                      for row in lost.iter_rows(named=True))
    total = int(lost["rejected"].sum())
    text = t("app.rows_set_aside_one" if total == 1 else "app.rows_set_aside", count=fmt_int(total), tables=names)
    quality = pages.BY_ID["datenqualitaet"]
    if "datenqualitaet" in access.pages_for(role()):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.warning(text, icon=":material/rule:")
        right.page_link(quality.script, label=t(quality.label), icon=quality.icon)
    else:
        st.warning(text, icon=":material/rule:")
