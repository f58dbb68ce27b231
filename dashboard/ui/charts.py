"""Charts and pickers in the UI's language: Streamlit's and Plotly's own English defaults (decimal
points, English month names, "Choose options", "Select all") replaced where a page shows them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.errors import DashboardError
from dashboard.ui.live import live_snapshot
from dashboard.ui.text import lang, t
from dashboard.ui.who import role

# Plotly's bundle in Streamlit carries only its English locale, so dates use numeric formats
# (a date axis ignores them on categories, so they apply to every chart's x axis).
FORMATS = {"day": {"de": "%d.%m.%Y", "en": "%Y-%m-%d"}, "month": {"de": "%m.%Y", "en": "%Y-%m"},
           "moment": {"de": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}}


def chart(fig, where=st, x: str = "day", counts: bool | Callable = True, partial_to: dt.date | None = None,
          **kwargs):
    """Draw a Plotly figure styled for the UI (``style``): what a page draws for one row only."""
    return plot(style(fig, x, counts, partial_to), where, **kwargs)


def plot(fig, where=st, **kwargs):
    """Draw a figure as it is (styled already), full width, without the Plotly logo."""
    return where.plotly_chart(fig, width="stretch", config={"displaylogo": False}, **kwargs)


def style(fig, x: str = "day", counts: bool | Callable = True, partial_to: dt.date | None = None):
    """A Plotly figure with the language's decimal and thousands separators, dates on the x axis
    as the UI writes them (``x``: day, month or moment), whole numbers on count axes (every axis, or
    those whose traces ``counts(trace)`` says are counts). A monthly chart read on ``partial_to``
    marks that month as running (counted up to that day), so it does not read as a fall."""
    fig.update_layout(separators=",." if lang() == "de" else ".,")
    if x == "month" and partial_to is not None:
        _running_month(fig, partial_to)
    fig.update_xaxes(tickformat=FORMATS[x][lang()], hoverformat=FORMATS[x][lang()])
    if x == "day":
        _one_tick_per_day_at_most(fig)
    if counts is True:
        _whole_numbers(fig, fig.data)
    elif counts:  # the facets whose traces a predicate calls counts (a chart of counts and percentages)
        for axis, traces in _axes(fig).items():
            if all(counts(trace) for trace in traces):
                _whole_numbers(fig, traces, axis)
    return fig


def shared_figure(build: Callable[..., go.Figure], **params) -> go.Figure:
    """The figure ``build(**params)`` makes, made once per live snapshot, language and role and shared
    by every session that asks for the same; ``build`` reads nothing but the snapshot (``ui.query``),
    the language and ``params``, and returns the figure styled (``style``).

    Building a Plotly figure is Python work (30-90 ms each): with 20 sessions at once it was half of
    every page run (cProfile, medium profile, 12-07). A shared figure is only read afterwards:
    Streamlit copies it into the page (``to_dict``)."""
    snapshot = live_snapshot()
    if snapshot is None:
        raise DashboardError("no snapshot published")
    return _shared(str(snapshot), lang(), role(), f"{build.__module__}.{build.__qualname__}",
                   tuple(sorted(params.items())), build)


@st.cache_resource(max_entries=256, show_spinner=False)
def _shared(snapshot: str, language: str, viewer: str, name: str, params: tuple, _build) -> go.Figure:
    return _build(**dict(params))


def _running_month(fig, day: dt.date) -> None:
    """Shade the month of ``day`` unless it is its last day: that month has only been counted so far. The
    note sits inside the shade, at its right edge: placed after it, its text stretched the axis years past
    the data (Plotly fits the axis to its notes)."""
    first = day.replace(day=1)
    if (day + dt.timedelta(days=1)).month == day.month:
        until = day.strftime("%d.%m.") if lang() == "de" else day.strftime("%m-%d")
        shade = dict(x0=first - dt.timedelta(days=14), x1=first + dt.timedelta(days=14), fillcolor="#9e9e9e",
                     opacity=0.15, line_width=0, layer="below", annotation_text=t("app.running_month", until=until),
                     annotation_position="top right", annotation_font={"size": 11, "color": "#616161"},
                     annotation_bgcolor="rgba(255,255,255,0.85)")
        if fig._grid_ref is not None:  # facets: every one
            fig.add_vrect(row="all", col="all", **shade)
        else:
            fig.add_vrect(**shade)


def _axes(fig) -> dict[str, list]:
    """The traces drawn on each y axis, by the axis's layout name ("yaxis", "yaxis2", ...)."""
    axes: dict[str, list] = {}
    for trace in fig.data:
        axis = getattr(trace, "yaxis", None) or "y"
        axes.setdefault("yaxis" + axis[1:], []).append(trace)
    return axes


def _whole_numbers(fig, traces, axis: str | None = None) -> None:
    """A count is never 2.5: whole-number ticks with the language's thousands separator, and a tick
    per unit where the counts are small; on ``axis``, or on every y axis."""
    top = max((max((v for v in trace.y if v is not None), default=0) for trace in traces
               if getattr(trace, "y", None) is not None), default=0)
    settings = dict(tickformat=",d", rangemode="tozero", **({"dtick": 1} if top < 8 else {}))
    if axis is None:
        fig.update_yaxes(**settings)
    else:
        fig.layout[axis].update(**settings)


def _one_tick_per_day_at_most(fig) -> None:
    """Dates a few days apart would get ticks every few hours, each labelled with the same day
    ("27.11.2026 27.11.2026 28.11.2026"): give such a date axis one tick per day."""
    values = [v for trace in fig.data if getattr(trace, "x", None) is not None for v in trace.x]
    if not values or any(isinstance(v, str) for v in values):  # categories (rights, quarters): no date axis
        return
    days = pd.to_datetime(pd.Series(values), errors="coerce")
    if days.isna().any():
        return
    if (days.max() - days.min()) <= pd.Timedelta(days=7):
        fig.update_xaxes(dtick=86_400_000, tick0=days.min().normalize())


def pick(where, label: str, options, key: str, **kwargs):
    """A multiselect whose empty state reads "Alle" (no filter) and without Streamlit's English
    "Select all" entry."""
    kwargs.setdefault("placeholder", t("app.all"))
    return where.multiselect(label, options, key=key, select_all=False, **kwargs)
