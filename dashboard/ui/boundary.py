"""The pages' error boundary: a known error is explained by its catalogue label, anything else
shows a generic message with an incident id (the log has the stack, never the message).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from dashboard import errors
from dashboard.ui.text import md, t


@contextlib.contextmanager
def error_boundary() -> Iterator[None]:
    """Around every page run: a known error shows its catalogue message; anything else a generic one
    with an incident id (the stack goes to the server log, never to the browser)."""
    try:
        yield
    except errors.DashboardError as exc:
        st.error(t(exc.label, reason=md(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)),
                 icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - the boundary: every other error ends here, with an id
        label_key, incident = errors.unexpected(exc)
        st.error(t(label_key, id=incident), icon=":material/error:")
