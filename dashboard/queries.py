"""Named SQL: every query lives in ``queries/<name>.sql`` and is addressed by its name.

Parameters are always bound (``$as_of``), never formatted into the text, so user input can only
ever be a value.
"""

from __future__ import annotations

import re
from functools import cache

from dashboard.paths import QUERIES_DIR

_NAME = re.compile(r"^[a-z0-9_]+$")


@cache
def sql(name: str) -> str:
    """The text of query ``name``; unknown or malformed names raise KeyError."""
    if not _NAME.match(name):
        raise KeyError(f"invalid query name {name!r}")
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}")
    return path.read_text(encoding="utf-8")


def exists(name: str) -> bool:
    return bool(_NAME.match(name)) and (QUERIES_DIR / f"{name}.sql").is_file()
