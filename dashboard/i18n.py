"""Labels from the one catalogue (``dashboard/labels.toml``), German by default, English on request."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

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
