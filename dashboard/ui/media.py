"""Downloads live for seconds, not until the next script run.

A download button's bytes are made when it is clicked (a deferred callable). Streamlit then stores them
under ``/media/<hash>.<ext>`` and hands that address to the browser, but deletes the file only after two
later cleanups, which run at the end of script runs: with nobody using the app, the file stayed there for
anyone who learnt its address (browser history, a proxy's log, a shared screen). Here the runtime's
``execute_deferred`` is wrapped once per process so that every file it produces is deleted
``DASHBOARD_DOWNLOAD_TTL_S`` seconds (default 30) after it was made; the browser fetches it at once.
A second click makes (and audits) it again. Relies on ``MediaFileManager.execute_deferred`` and
``_delete_file`` of Streamlit 1.67; ``tests/e2e/test_faults.py`` fails if they change.
"""

from __future__ import annotations

import os
import threading

from streamlit import runtime

DEFAULT_TTL_S = 30.0
_MARK = "_cockpit_short_lived"


def ttl_seconds() -> float:
    raw = os.environ.get("DASHBOARD_DOWNLOAD_TTL_S", "").strip()
    return float(raw) if raw else DEFAULT_TTL_S


def short_lived_downloads() -> None:
    """Install the expiry on this process's media manager (idempotent; nothing to do without a runtime)."""
    if not runtime.exists():
        return
    manager = runtime.get_instance().media_file_mgr
    if getattr(manager, _MARK, False):
        return
    produce = manager.execute_deferred
    ttl = ttl_seconds()

    def execute_deferred(file_id: str) -> str:
        url = produce(file_id)
        served = url.rsplit("/", 1)[-1].split(".", 1)[0]  # /media/<id>.<ext>
        timer = threading.Timer(ttl, _forget, (manager, served))
        timer.daemon = True
        timer.start()
        return url

    manager.execute_deferred = execute_deferred
    setattr(manager, _MARK, True)


def _forget(manager, file_id: str) -> None:
    with manager._lock:
        if file_id in manager._file_metadata:
            manager._delete_file(file_id)
