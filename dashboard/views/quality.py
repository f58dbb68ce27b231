"""Datenqualität: what each source delivered, which rows the snapshot set aside and why, and which
people it could not match across systems."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import paths, presentation, ui
from dashboard.schema import SOURCE_FINDINGS
from dashboard.ui import t

REJECTED_LIMIT = 1000


def render() -> None:
    st.title(t("quality.title"))
    tables = _relative(ui.query("source_tables"))
    st.subheader(t("quality.tables"))
    ui.show_table(ui.translate(tables, system="system", table_name="table"))
    _register()
    _identities()
    st.subheader(t("quality.rejected"))
    total = int(tables["rejected"].sum())
    if total == 0:
        st.success(t("quality.none_rejected"))
        return
    page = ui.query_page("rejected_rows", REJECTED_LIMIT)
    reasons = ui.as_text(page.frame["reason"], lambda r: presentation.reason_text(r, ui.lang()))
    ui.show_table(ui.translate(_relative(page.frame.with_columns(reasons)), table_name="table"), total=page.total,
                  list_name="rejected_rows")


def _relative(frame: pl.DataFrame) -> pl.DataFrame:
    """Source files under the data directory by their path in it ("demo/helpdesk/tickets.csv"), so the
    counts and reasons beside them stay on screen."""
    prefix = str(paths.data_dir()).rstrip("/") + "/"
    return frame.with_columns(pl.col("source").str.replace_all(prefix, "", literal=True))


def _register() -> None:
    """What reading the privacy register from the helpdesk found: an attribute it could not read, a
    state its history names that no longer exists, a representative's request whose subject nobody knows."""
    for row in ui.query("source_findings", codes=list(SOURCE_FINDINGS["quality"])).iter_rows(named=True):
        st.warning(t(f"quality.source_{row['finding']}", source=ui.md(row["source"]), subject=ui.md(row["subject"])),
                   icon=":material/warning:")


def _identities() -> None:
    """People the snapshot could not match across systems (an e-mail shared inside one source)."""
    ambiguous = ui.query("identity_ambiguities")
    if ambiguous.is_empty():
        return
    st.subheader(t("quality.ambiguous"))
    st.caption(t("quality.ambiguous_help"))
    ui.show_table(ambiguous)


render()
