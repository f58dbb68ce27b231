"""Labels from the one catalogue (``dashboard/labels.toml``), German by default, English on request."""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.sqltext import BERLIN_ZONE

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
CATALOGUE = Path(__file__).with_name("labels.toml")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """Flat ``group.key -> {de, en}`` view of the catalogue."""
    raw = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    return {f"{group}.{key}": texts for group, entries in raw.items() for key, texts in entries.items()}


def label(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text for ``key``; a missing key raises, so a typo cannot ship as a blank label."""
    texts = catalogue()[key]
    return texts.get(lang, texts[DEFAULT_LANGUAGE]).format(**values)


@lru_cache(maxsize=64)
def code_labels(group: str, lang: str) -> dict[str, str]:
    """Display names of a group's coded values (statuses, rights, categories) in ``lang``."""
    prefix = group + "."
    return {key[len(prefix):]: texts.get(lang, texts[DEFAULT_LANGUAGE])
            for key, texts in catalogue().items() if key.startswith(prefix)}


def local_number(value: float, digits: int, lang: str, sign: bool = False) -> str:
    """The one number writer: ``digits`` places, a decimal comma and dot thousands in German."""
    text = f"{value:{'+' if sign else ''},.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "de" else text


def local_date(day: dt.date, lang: str) -> str:
    """A date as the language writes it: 27.10.2025 in German, ISO in English (pages, letters, e-mails)."""
    return day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat()


def moment_pattern(lang: str) -> str:
    """How an office writes a moment (strftime): "27.10.2025, 09:00 Uhr" in German, 2025-10-27 09:00 in
    English. One pattern for a value (``local_moment``) and for a whole column (ui.formats.with_moments)."""
    return "%d.%m.%Y, %H:%M Uhr" if lang == "de" else "%Y-%m-%d %H:%M"


def local_moment(at: dt.datetime, lang: str) -> str:
    """A moment in Europe/Berlin as an office writes it (``moment_pattern``). Files keep seconds and the
    offset (dashboard.exports)."""
    return at.astimezone(ZoneInfo(BERLIN_ZONE)).strftime(moment_pattern(lang))
