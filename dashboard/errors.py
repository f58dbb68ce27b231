"""The failures the dashboard knows, each with the catalogue label that explains it to a user.

Every known error derives from ``DashboardError``; its ``label`` names the message in
``labels.toml`` and its text (one line, written for the user, no personal data) is the reason shown.
Anything else is unexpected: the page's error boundary (``dashboard.ui.error_boundary``) shows a
generic message with an incident id and logs the type and the stack under that id, never the
message (a database error's message can hold SQL and bound values such as subject ids).
Plain Python, no Streamlit import.
"""

from __future__ import annotations

import logging
import sqlite3
import tomllib
import traceback
import uuid
from pathlib import Path

log = logging.getLogger("dashboard.errors")


class DashboardError(Exception):
    """A known failure; ``label`` is its catalogue key (formatted with ``reason``)."""

    label = "errors.generic"


def unexpected(exc: BaseException) -> tuple[str, str]:
    """(label, incident id) for an error nobody foresaw; logged with its stack, not its message."""
    incident = uuid.uuid4().hex[:8]
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s [incident %s]\n%s", type(exc).__name__, incident, stack)
    if isinstance(exc, sqlite3.OperationalError):
        return "errors.state_busy", incident
    if isinstance(exc, OSError):
        return "errors.storage", incident
    return "errors.unexpected", incident


def read_toml(path: Path, error: type[DashboardError], missing: str) -> dict:
    """A configuration file's content. A missing file raises ``error(missing)`` (what the caller says to
    do about it); a malformed one names the file and TOML's reason."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(missing) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def first_line(exc: BaseException, typed: bool = False) -> str:
    """An error's first line (a driver's message can run on for pages), optionally after its type."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    return f"{type(exc).__name__}: {lines[0]}" if typed else lines[0]
