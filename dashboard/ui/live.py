"""The live snapshot and its cached queries. Connections are cached per *versioned* snapshot file
and results per (file, query, parameters), so publishing a new snapshot switches every session on
its next rerun, with no restart and no stale results.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import data
from dashboard.deadlines import BERLIN
from dashboard.errors import DashboardError
from dashboard.policy import Policy, load_policy
from dashboard.snapshot import LAYOUT, current_snapshot, snapshot_layout, usable_snapshot
from dashboard.ui.formats import date_format, fmt_date
from dashboard.ui.text import t
from dashboard.ui.urlstate import bind as bind_to_url
from dashboard.ui.who import role

STALE_AFTER = dt.timedelta(hours=24)


def policy() -> Policy:
    return load_policy()


PIN_KEY = "_pinned_snapshot"


def pin_snapshot() -> None:
    """At the start of every run (app.py): the snapshot that every query and figure of this run reads,
    so a publish during the run cannot show the sidebar's "Datenstand" of one snapshot and tiles of
    another. The next run reads the pointer again."""
    st.session_state[PIN_KEY] = _usable(*_live_key())


def _pinned() -> tuple[Path | None, str | None]:
    pinned = st.session_state.get(PIN_KEY)
    return pinned if pinned is not None else _usable(*_live_key())


def live_snapshot() -> Path | None:
    """The snapshot pages read in this run: the live one, or the newest readable kept version when the
    live file cannot be read (``snapshot_fallback`` says why, and the sidebar warns)."""
    return _pinned()[0]


def snapshot_fallback() -> str | None:
    """Why the pages show an older snapshot than the live one (None: they show the live one)."""
    return _pinned()[1]


def _live_key() -> tuple[str | None, int, int]:
    live = current_snapshot()
    if live is None:
        return None, 0, 0
    stat = live.stat()
    return str(live), stat.st_size, stat.st_mtime_ns


@st.cache_data(max_entries=16, show_spinner=False)
def _usable(live: str | None, _size: int, _mtime: int) -> tuple[Path | None, str | None]:
    """Checked once per version of the live file (its name, size and modification time are the key)."""
    if live is None:
        return None, None
    usable = usable_snapshot(Path(live).parent)
    return usable.path, usable.problem


@st.cache_data(max_entries=8, show_spinner=False)
def _layout(path: str) -> int:
    return snapshot_layout(Path(path))


def snapshot_outdated() -> bool:
    """The live snapshot was built by an older version whose tables this version cannot read."""
    snapshot = live_snapshot()
    return snapshot is not None and _layout(str(snapshot)) != LAYOUT


def no_readable_snapshot() -> bool:
    """A snapshot is live but neither it nor any kept version can be read."""
    return live_snapshot() is None and snapshot_fallback() is not None


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str):
    return data.connect(Path(path))


# Query results are shared by every session as they are, not copied per reader: a Polars frame is never
# changed in place (every operation makes a new one). st.cache_data unpickled a copy on each hit; with
# 20 sessions at once those copies took 7% of every page run (cProfile, medium profile, 12-07).
@st.cache_resource(max_entries=512, show_spinner=False)
def _cached_query(path: str, name: str, params: tuple) -> pl.DataFrame:
    return data.run(_connection(path), name, **dict(params))


@st.cache_resource(max_entries=256, show_spinner=False)
def _cached_page(path: str, name: str, limit: int | None, params: tuple) -> data.Page:
    return data.run_page(_connection(path), name, limit, **dict(params))


def cached_query(snapshot: str, name: str, params: dict) -> pl.DataFrame:
    """Query ``name`` on ``snapshot`` through the pages' cache, unmasked (for the cache warm-up only)."""
    return _cached_query(snapshot, name, tuple(sorted(params.items())))


def query_page(name: str, limit: int | None, **params) -> data.Page:
    """A page of list query ``name`` on the live snapshot: its first ``limit`` rows (masked for the
    viewer's role) and the total."""
    snapshot = live_snapshot()
    if snapshot is None:
        raise DashboardError("no snapshot published")
    page = _cached_page(str(snapshot), name, limit, tuple(sorted(params.items())))
    return data.Page(data.mask_personal(page.frame, role()), page.total)


def query(name: str, **params) -> pl.DataFrame:
    """Run a named query on the live snapshot, cached, masked for the viewer's role."""
    snapshot = live_snapshot()
    if snapshot is None:
        raise DashboardError("no snapshot published")
    return data.mask_personal(cached_query(str(snapshot), name, params), role())


def today() -> dt.date:
    return dt.datetime.now(BERLIN).date()


def as_of_range() -> tuple[dt.date, dt.date]:
    """The dates a page can be read at: back to the start of the year ten years ago (the longest
    retention period) and ahead to the end of the year after next (planning)."""
    year = today().year
    return dt.date(year - 10, 1, 1), dt.date(year + 2, 12, 31)


KEPT = "_kept_"  # session keys that outlive a page's widgets: the "Stand am" a user chose on each page


def as_of_input(key: str = "as_of") -> dt.date:
    """The "Stand am" date. The picker takes any date, so a typed date is always applied (a date the
    widget itself refused would leave the previous figures on screen); one out of range stops the
    page with the range it accepts, so no figure of another date stays visible."""
    first, last = as_of_range()
    # In the URL (a link opens at the date it was sent with) and kept for the session: back on the page
    # after another (Streamlit forgets a widget that was not drawn), the date and its URL come back.
    # Kept by hand: Streamlit's persist_state="session" cost 0.2 s on every page load (first paint).
    in_url = bind_to_url(key, "as_of", dates=True, default=today())
    kept = KEPT + key
    if key not in st.session_state and st.session_state.get(kept) not in (None, today()):
        st.session_state[key] = st.session_state[kept]
        in_url()

    def chosen() -> None:
        st.session_state[kept] = st.session_state.get(key)
        in_url()

    day = st.date_input(t("app.as_of"), value=today(), key=key, format=date_format(), on_change=chosen,
                        min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31),
                        help=t("app.as_of_help", first=fmt_date(first), last=fmt_date(last)))
    if day is None or not first <= day <= last:
        st.error(t("app.as_of_out_of_range", first=fmt_date(first), last=fmt_date(last)), icon=":material/event_busy:")
        st.stop()
    return day


def now() -> dt.datetime:
    """The current moment, truncated to the minute so cached clock figures are reused."""
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
