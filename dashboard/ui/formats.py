"""Numbers, dates and moments in the UI's language (decimal commas and dd.mm.yyyy in German).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.i18n import local_date, local_moment, local_number, moment_pattern
from dashboard.sqltext import BERLIN_ZONE
from dashboard.ui.text import lang, t


def decimal(value: float, digits: int = 1, sign: bool = False, language: str | None = None) -> str:
    """A number in the UI's language (``i18n.local_number``; ``language``: read once for a whole table)."""
    return local_number(value, digits, language or lang(), sign)


def date_format() -> str:
    """The date pattern of Streamlit's date inputs and date columns in the UI's language."""
    return "DD.MM.YYYY" if lang() == "de" else "YYYY-MM-DD"


def fmt_int(value: int | float | None) -> str:
    return "–" if value is None else decimal(int(value), 0)


def fmt_pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{decimal(value, digits)} %"


def fmt_hours(value: float | None) -> str:
    return "–" if value is None else f"{decimal(value)} h"


def fmt_delta(value: float | None, previous: float | None, points: bool = False) -> str | None:
    """The change against an earlier figure for ``st.metric`` (percentage points for rates)."""
    if value is None or previous is None:
        return None
    change = value - previous
    if round(change, 1) == 0:  # unchanged: Streamlit shows only the literal "0" as no change (grey, no arrow)
        return "0"
    if not points:
        return ("+" if change > 0 else "") + fmt_int(change)
    return f"{decimal(change, sign=True)} {t('app.points')}"


def fmt_bytes(value: float | None) -> str:
    value = float(value or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{decimal(value)} {unit}"
        value /= 1024
    return ""


def fmt_moment(value: dt.datetime | None, language: str | None = None) -> str:
    """A timestamp in Europe/Berlin as an office writes it (``i18n.local_moment``); "" for none."""
    return "" if value is None else local_moment(value, language or lang())


def with_moments(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Timestamp columns (every snapshot timestamp carries its zone) as Europe/Berlin text, empty where there
    is none, in one Polars pass with ``local_moment``'s pattern (a Python call per cell was a tenth of a
    page run with 20 sessions at once, 12-07)."""
    pattern = moment_pattern(lang())
    return frame.with_columns(pl.col(c).dt.convert_time_zone(BERLIN_ZONE).dt.strftime(pattern).fill_null("")
                              for c in columns if c in frame.columns)


def fmt_date(value: dt.date | None, language: str | None = None) -> str:
    return "" if value is None else local_date(value, language or lang())
