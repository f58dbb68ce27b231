"""Charts and pickers in the UI's language: Streamlit's and Plotly's own English defaults (decimal
points, English month names, "Choose options", "Select all") replaced where a page shows them.
"""

from __future__ import annotations

import streamlit as st

from dashboard.ui.text import lang, t

# Plotly's bundle in Streamlit carries only its English locale, so dates use numeric formats
# (a date axis ignores them on categories, so they apply to every chart's x axis).
FORMATS = {"day": {"de": "%d.%m.%Y", "en": "%Y-%m-%d"}, "month": {"de": "%m.%Y", "en": "%Y-%m"},
           "moment": {"de": "%d.%m.%Y %H:%M", "en": "%Y-%m-%d %H:%M"}}


def chart(fig, where=st, x: str = "day", counts: bool = True, **kwargs):
    """Draw a Plotly figure with the language's decimal and thousands separators, dates on the x axis
    as the UI writes them (``x``: day, month or moment), whole numbers on count axes, no Plotly logo."""
    fig.update_layout(separators=",." if lang() == "de" else ".,")
    fig.update_xaxes(tickformat=FORMATS[x][lang()], hoverformat=FORMATS[x][lang()])
    if counts:  # a count is never 2.5: whole-number ticks with the language's thousands separator
        fig.update_yaxes(tickformat=",d", rangemode="tozero")
        top = max((max((v for v in trace.y if v is not None), default=0) for trace in fig.data
                   if getattr(trace, "y", None) is not None), default=0)
        if top < 8:
            fig.update_yaxes(dtick=1)
    return where.plotly_chart(fig, width="stretch", config={"displaylogo": False}, **kwargs)


def pick(where, label: str, options, key: str, **kwargs):
    """A multiselect whose empty state reads "Alle" (no filter) and without Streamlit's English
    "Select all" entry."""
    kwargs.setdefault("placeholder", t("app.all"))
    return where.multiselect(label, options, key=key, select_all=False, **kwargs)
