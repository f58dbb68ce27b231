"""Filters that live in the URL: a filtered view is a link a DPO can send, and a reload shows it again.

``bind`` seeds a widget from the URL's query parameter when the URL names a value the widget has not
taken yet (a link, a tile on the overview, a reload), and returns the ``on_change`` that writes the
user's choice back into the URL. Values a page does not offer are ignored, never guessed. Choices go
into the URL by their codes, dates as ISO: Streamlit's own binding (``bind="query-params"``) writes a
choice's label (a German link would not open in English) and misses a date typed and applied with Enter,
so it serves only numbers, switches and plain radio values.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable, Sequence

import streamlit as st

from dashboard import pages

_SEEN = "_url_seen_"


def bind(key: str, param: str, allowed: Sequence[str] | None = None, many: bool = False,
         flag: bool = False, dates: bool = False, default=None) -> Callable[[], None]:
    """Seed widget ``key`` from ``?param=`` (several values when ``many``; "1" for an on/off ``flag``; ISO
    dates for a date picker when ``dates``, a range when ``many`` too). The value ``default`` is not
    written (a link without a date opens at today)."""
    raw = st.query_params.get_all(param)
    if raw and st.session_state.get(_SEEN + key) != raw:
        values = [v for v in raw if allowed is None or v in allowed]
        if dates:
            values = _iso_dates(raw)
            if values is not None:
                st.session_state[key] = tuple(values) if many else values[0]
        else:
            st.session_state[key] = values if many else (raw[0] == "1") if flag else (values or [None])[0]
        st.session_state[_SEEN + key] = raw

    def write_back() -> None:
        value = st.session_state.get(key)
        if value == default:
            value = None
        chosen = [str(v) for v in value or ()] if many else (["1"] if value else []) if flag else (
            [value.isoformat() if dates else str(value)] if value is not None else [])
        if chosen:
            st.query_params[param] = chosen if many else chosen[0]
        elif param in st.query_params:
            del st.query_params[param]
        st.session_state[_SEEN + key] = chosen

    return write_back


def _iso_dates(raw: list[str]) -> list | None:
    """Up to two ISO dates from a URL, or None when one is not a date (a link is never guessed at)."""
    try:
        return [dt.date.fromisoformat(v) for v in raw[:2]]
    except ValueError:
        return None


def selected(event, ids: list, param: str, key: str) -> str | None:
    """The id of the row chosen in table ``key``, kept in the URL as ``?param=`` so a link or a reload
    opens the same detail. A selection writes the URL; clearing it removes the id; without either,
    the URL's id stands (a sent link, a reload)."""
    rows = event.selection.rows if event is not None and event.selection else []
    memo = _SEEN + key
    if rows:
        chosen = str(ids[rows[0]])
        st.query_params[param] = chosen
        st.session_state[memo] = chosen
        return chosen
    if st.session_state.get(memo) is not None:  # the user cleared the selection this run
        if st.query_params.get(param) == st.session_state[memo]:
            del st.query_params[param]
        st.session_state[memo] = None
        return None
    return st.query_params.get(param)


def linked_row(frame, not_found: str, **label_values) -> dict | None:
    """The one row of a detail query for an id from a table or a link; for an id this snapshot does not
    hold (an old link), the catalogue's ``not_found`` message instead, and None."""
    if frame.is_empty():
        from dashboard.ui.text import md, t

        st.warning(t(not_found, **{k: md(v) for k, v in label_values.items()}), icon=":material/search_off:")
        return None
    return frame.row(0, named=True)


def cockpit_base_url() -> str | None:
    """The cockpit's address as the browser reached it (scheme, host and any base path, without the
    page), for links in files made here: the calendar's events open the request or incident."""
    url = st.context.url
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in pages.IDS:
        path = path[: -len(last)].rstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))

