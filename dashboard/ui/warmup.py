"""Warm the pages' caches for each new snapshot as soon as the server sees it (and once after the
server starts), so the first user after a publish does not wait for cold queries and imports.

One background thread per server process and data dir polls the snapshot pointer; for a new version
it runs the headline figures of every page (``kpis.headline``, the pages' own queries with their
default date) through the same cache the pages read. It computes nothing a page would not, and a
failed warm-up only means a page computes its figures itself.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboard import kpis
from dashboard.policy import load_policy
from dashboard.snapshot import usable_snapshot
from dashboard.ui import live

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0


_STOP = threading.Event()


@dataclass(frozen=True)
class Watch:
    """The warm-up thread of one snapshot folder, and whether its first pass is done (the live snapshot
    warmed, or the failure logged): ``dashboard serve`` waits for that before Streamlit listens."""

    thread: threading.Thread
    first_pass: threading.Event


@st.cache_resource(show_spinner=False)
def start(snapshots: str) -> Watch:
    """The warm-up thread of this process for the snapshot folder ``snapshots`` (started once). It
    ends with the process: stopped and joined at exit, never cut off inside a query."""
    first_pass = threading.Event()
    thread = threading.Thread(target=_watch, args=(Path(snapshots), first_pass), daemon=True, name="cache-warmup")
    thread.start()
    atexit.register(_stop, thread)
    return Watch(thread, first_pass)


def _stop(thread: threading.Thread) -> None:
    _STOP.set()
    thread.join(timeout=30)


def _watch(folder: Path, first_pass: threading.Event) -> None:
    warmed = None
    while not _STOP.is_set():
        try:
            path = usable_snapshot(folder).path
            if path is not None and path != warmed:
                warm(str(path))
                warmed = path
        except Exception as exc:  # noqa: BLE001 - the pages compute their figures themselves then
            log.warning("cache warm-up skipped: %s", type(exc).__name__)
        first_pass.set()
        _STOP.wait(POLL_SECONDS)


def warm(snapshot: str) -> float:
    """Fill the caches of snapshot ``snapshot`` for today's first views; returns the seconds it took."""
    started = time.perf_counter()
    import plotly.express  # noqa: F401 - the pages' heaviest import, paid here instead of by a user

    def run(name: str, **params):
        return live.cached_query(snapshot, name, params)

    kpis.headline(run, live.today(), live.now(), load_policy().settings)
    return time.perf_counter() - started
