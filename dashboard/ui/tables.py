"""Tables with catalogue column titles, translated codes and dates in the UI's format.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard.i18n import code_labels
from dashboard.ui.formats import date_format, fmt_int
from dashboard.ui.text import lang, t


def date_column(title: str) -> st.column_config.DateColumn:
    return st.column_config.DateColumn(title, format=date_format())


def translate(frame: pl.DataFrame, **groups: str) -> pl.DataFrame:
    """Replace coded values (``right="right"``) by their catalogue labels, column by column."""
    return frame.with_columns(pl.col(column).replace(code_labels(group, lang()))
                              for column, group in groups.items() if column in frame.columns)


def show_table(frame: pl.DataFrame, total: int | None = None, dates: tuple[str, ...] = (),
               key: str | None = None, titles: dict[str, str] | None = None):
    """A table with catalogue column titles (``col.<name>`` unless ``titles`` names another key);
    dates in the language's format.

    With ``key`` a row can be selected; the selection event is returned.
    """
    keys = {c: (titles or {}).get(c, f"col.{c}") for c in frame.columns}
    config = {c: date_column(t(keys[c])) if c in dates else st.column_config.Column(t(keys[c]))
              for c in frame.columns}
    selectable = dict(key=key, on_select="rerun", selection_mode="single-row") if key else {}
    event = st.dataframe(frame, hide_index=True, width="stretch", column_config=config, **selectable)
    if total is not None and total > frame.height:
        st.caption(t("app.rows_shown", shown=fmt_int(frame.height), total=fmt_int(total)))
    return event if key else None
