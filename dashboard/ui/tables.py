"""Tables with catalogue column titles, translated codes and dates in the UI's format.
"""

from __future__ import annotations

import datetime as dt
import html

import polars as pl
import streamlit as st

from dashboard import presentation
from dashboard.i18n import code_labels
from dashboard.ui.formats import date_format, decimal, fmt_date, fmt_int, fmt_moment
from dashboard.ui.text import lang, t

# A clock read at a glance: its cell in the colour of its state (the list's first columns).
CLOCK_COLOURS = {"overdue": "#c62828", "due_soon": "#e65100", "warning": "#e65100", "open": "#8d6e00",
                 "on_track": "#2e7d32", "notified_late": "#c62828", "notified_on_time": "#2e7d32",
                 "not_required": "#616161"}
# The Art. 34 state likewise: an outstanding notice of the subjects is an alarm, a risk still to assess a warning.
ART34_COLOURS = {"outstanding": "#c62828", "to_assess": "#e65100", "informed": "#2e7d32", "exempt": "#2e7d32",
                 "not_required": "#616161"}
# Which coded columns are coloured, by which table of colours.
COLOURED = {"clock": CLOCK_COLOURS, "art34": ART34_COLOURS}


def status_text(container, label: str, value: str, colour: str | None) -> None:
    """A state in words under its label, in the state's colour: wraps where a figure tile would cut it."""
    container.caption(label)
    style = f"color:{colour};" if colour else ""
    container.html(f'<div style="{style}font-size:1.25rem;font-weight:600;line-height:1.3">{html.escape(value)}</div>')


def translate(frame: pl.DataFrame, **groups: str) -> pl.DataFrame:
    """Replace coded values (``right="right"``) by their catalogue labels, column by column."""
    return frame.with_columns(pl.col(column).replace(code_labels(group, lang()))
                              for column, group in groups.items() if column in frame.columns)


def _as_listed(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """List ``name`` as its page shows it and its CSV exports it (``presentation``): labels, not codes."""
    labels = {c: presentation.value_labels(name, c, lang()) for c in frame.columns}
    return frame.with_columns(pl.col(c).replace(labels[c]) for c in frame.columns if labels[c])


# A state without a colour of its own (e.g. a request answered): a quiet grey label.
NEUTRAL = "#9e9e9e"


def _state_labels(frame: pl.DataFrame, codes: dict[str, list], config: dict, titles: dict[str, str]) -> pl.DataFrame:
    """Each coloured state cell (clock, Art. 34) as one label on its state's colour: Streamlit's own
    multiselect column, read-only. A pandas Styler did the same by writing every cell of the table as text
    on every run; with 20 sessions at once that was a third of the server's work (bench load step, 12-07).
    ``codes``: the states' codes row by row (the frame holds their labels); ``config`` gets the columns."""
    for column, values in codes.items():
        colours = COLOURED[column]
        palette = dict(zip(frame[column].to_list(), (colours.get(code, NEUTRAL) for code in values), strict=True))
        options = [label for label in palette if label is not None]
        widest = max((len(label) for label in options), default=1)
        config[column] = st.column_config.MultiselectColumn(
            titles[column], width=int(widest * 7.2 + 40), help=titles[column], options=options,
            color=[palette[label] for label in options])
        frame = frame.with_columns(pl.when(pl.col(column).is_null()).then(None)
                                   .otherwise(pl.concat_list(column)).alias(column))
    return frame


def _writer(language: str):
    """One value as the UI writes it in ``language``: how wide a column must be (read once per table)."""
    def cell(value) -> str:
        if isinstance(value, dt.datetime):
            return fmt_moment(value, language)
        if isinstance(value, dt.date):
            return fmt_date(value, language)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float):
            return decimal(value, 1 if isinstance(value, float) else 0, language=language)
        return str(value)

    return cell


# A text longer than this goes after the counts, so no count is pushed off a 1440 px screen.
LONG_TEXT = 40


def _column_facts(frame: pl.DataFrame) -> dict[str, tuple]:
    """What placing and sizing each column needs, read in one Polars pass (a call per column and fact was a
    tenth of a page run with 20 sessions at once, bench load step 12-07): a text's longest length, a
    number's smallest and largest value, another column's first value (dates and times all write alike)."""
    exprs = []
    for i, (c, dtype) in enumerate(frame.schema.items()):
        column = pl.col(c)
        if dtype == pl.String:
            exprs.append(column.str.len_chars().max().alias(f"{i}"))
        elif dtype.is_numeric():
            exprs += [column.min().alias(f"{i}min"), column.max().alias(f"{i}max")]
        else:
            exprs.append(column.drop_nulls().first().alias(f"{i}"))
    values = iter(frame.select(exprs).row(0))
    return {c: (next(values), next(values)) if dtype.is_numeric() else (next(values),)
            for c, dtype in frame.schema.items()}


def _counts_before_long_text(frame: pl.DataFrame, facts: dict[str, tuple]) -> pl.DataFrame:
    """The two columns that name a row, then its counts, then the other short columns in their order, then
    the long texts (reasons, source paths, findings): at 1440 px no count is pushed off screen."""
    long = [c for c, dtype in frame.schema.items() if dtype == pl.String and (facts[c][0] or 0) > LONG_TEXT]
    naming = [c for c in frame.columns[:2] if c not in long and not frame.schema[c].is_numeric()]
    counts = [c for c, dtype in frame.schema.items() if dtype.is_numeric() and c not in naming]
    rest = [c for c in frame.columns if c not in naming + counts + long]
    return frame.select(naming + counts + rest + long)


def _width(dtype, facts: tuple, title: str, cell) -> int | None:
    """A column as wide as its widest value as the UI writes it, so a number is never cut at 1440 px; a
    long title gets at most 100 px (it is cut, and whole in the tooltip). Long texts, last, fit the rest.
    ``facts``: the column's (``_column_facts``)."""
    if dtype == pl.String:
        widest = facts[0] or 1
        if widest > LONG_TEXT:
            return None
    elif dtype.is_numeric():  # the widest number is the smallest or the largest
        widest = max((len(cell(v)) for v in facts if v is not None), default=1)
    else:  # dates and times all write alike: one of them says how wide
        widest = len(cell(facts[0])) if facts[0] is not None else 1
    per_char = 8.0 if dtype.is_numeric() else 7.2
    return int(max(widest * per_char + 28, min(len(title) * 7 + 24, 100)))


def _column(dtype, title: str, width: int | None):
    """A column's title, width and format: numbers with the reader's thousands separators and decimal
    mark (the browser's locale: "3.263" and "2,5" in a German browser), dates as the UI writes them."""
    if dtype.is_numeric():
        return st.column_config.NumberColumn(title, width=width, help=title, format="localized")
    if dtype == pl.Date:
        return st.column_config.DateColumn(title, width=width, help=title, format=date_format())
    return st.column_config.Column(title, width=width, help=title)


def show_table(frame: pl.DataFrame, total: int | None = None, key: str | None = None,
               titles: dict[str, str] | None = None, list_name: str | None = None,
               empty: str = "app.empty_list"):
    """A table with catalogue column titles (``col.<name>`` unless ``titles`` names another key);
    dates in the language's format; a missing value as "–". For a named list, its codes as labels and
    its titles (``presentation``). An empty table says so instead (``empty``: the catalogue key).

    With ``key`` a row can be selected; the selection event is returned.
    """
    if frame.is_empty():
        st.info(t(empty), icon=":material/inbox:")
        return None
    codes = {c: frame[c].to_list() for c in COLOURED if c in frame.columns}
    if list_name:
        frame = _as_listed(frame, list_name)
        titles = {**presentation.look(list_name).titles, **(titles or {})}
    facts = _column_facts(frame)
    frame = _counts_before_long_text(frame, facts)
    cell = _writer(lang())
    keys = {c: (titles or {}).get(c, f"col.{c}") for c in frame.columns}
    config = {c: _column(dtype, t(keys[c]), _width(dtype, facts[c], t(keys[c]), cell))
              for c, dtype in frame.schema.items()}
    selectable = dict(key=key, on_select="rerun", selection_mode="single-row") if key else {}
    # Every table is drawn from its values with the column formats above; coloured states as labels.
    shown = _state_labels(frame, codes, config, {c: t(keys[c]) for c in codes})
    # As Arrow: Streamlit sends an Arrow table as it is, where it turns a Polars frame into pandas and back
    # (a seventh of a page run with 20 sessions at once, bench load step 12-07).
    event = st.dataframe(shown.to_arrow(), hide_index=True, width="stretch", column_config=config, placeholder="–",
                         **selectable)
    if total is not None and total > frame.height:
        st.caption(t("app.rows_shown", shown=fmt_int(frame.height), total=fmt_int(total)))
    return event if key else None
