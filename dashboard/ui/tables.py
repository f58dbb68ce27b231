"""Tables with catalogue column titles, translated codes and dates in the UI's format.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import presentation
from dashboard.i18n import code_labels
from dashboard.ui.formats import date_format, decimal, fmt_date, fmt_int
from dashboard.ui.text import lang, t

# A clock read at a glance: its cell in the colour of its state (the list's first columns).
CLOCK_COLOURS = {"overdue": "#c62828", "due_soon": "#e65100", "warning": "#e65100", "open": "#8d6e00",
                 "on_track": "#2e7d32", "notified_late": "#c62828", "notified_on_time": "#2e7d32",
                 "not_required": "#616161"}


def date_column(title: str) -> st.column_config.DateColumn:
    return st.column_config.DateColumn(title, format=date_format())


def translate(frame: pl.DataFrame, **groups: str) -> pl.DataFrame:
    """Replace coded values (``right="right"``) by their catalogue labels, column by column."""
    return frame.with_columns(pl.col(column).replace(code_labels(group, lang()))
                              for column, group in groups.items() if column in frame.columns)


def _as_listed(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """List ``name`` as its page shows it and its CSV exports it (``presentation``): labels, not codes."""
    labels = {c: presentation.value_labels(name, c, lang()) for c in frame.columns}
    return frame.with_columns(pl.col(c).replace(labels[c]) for c in frame.columns if labels[c])


def _coloured_clock(frame: pl.DataFrame, codes: list | None):
    """The table with its clock cells coloured by state (a pandas Styler, which ``st.dataframe`` draws)."""
    if codes is None:
        return frame
    styles = [f"color: {CLOCK_COLOURS[c]}; font-weight: 600" if c in CLOCK_COLOURS else "" for c in codes]
    # A Styler's text replaces the column formats, so it writes every value as the UI does.
    return frame.to_pandas().style.apply(lambda _: styles, subset=["clock"]).format(_cell, na_rep="–")


def _cell(value) -> str:
    if isinstance(value, dt.date):
        return fmt_date(value)
    if isinstance(value, float):
        return decimal(value, 1)
    if isinstance(value, int):
        return fmt_int(value)
    return str(value)


def show_table(frame: pl.DataFrame, total: int | None = None, dates: tuple[str, ...] = (),
               key: str | None = None, titles: dict[str, str] | None = None, list_name: str | None = None,
               empty: str = "app.empty_list"):
    """A table with catalogue column titles (``col.<name>`` unless ``titles`` names another key);
    dates in the language's format; a missing value as "–". For a named list, its codes as labels and
    its titles (``presentation``). An empty table says so instead (``empty``: the catalogue key).

    With ``key`` a row can be selected; the selection event is returned.
    """
    if frame.is_empty():
        st.info(t(empty), icon=":material/inbox:")
        return None
    codes = frame["clock"].to_list() if "clock" in frame.columns else None
    if list_name:
        frame = _as_listed(frame, list_name)
        titles = {**presentation.look(list_name).titles, **(titles or {})}
    keys = {c: (titles or {}).get(c, f"col.{c}") for c in frame.columns}
    config = {c: date_column(t(keys[c])) if c in dates else st.column_config.Column(t(keys[c]))
              for c in frame.columns}
    selectable = dict(key=key, on_select="rerun", selection_mode="single-row") if key else {}
    event = st.dataframe(_coloured_clock(frame, codes), hide_index=True, width="stretch", column_config=config,
                         placeholder="–", **selectable)
    if total is not None and total > frame.height:
        st.caption(t("app.rows_shown", shown=fmt_int(frame.height), total=fmt_int(total)))
    return event if key else None
