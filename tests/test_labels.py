"""One catalogue: every key has German and English, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.i18n import LANGUAGES, catalogue

ROOT = Path(__file__).resolve().parent.parent


def test_every_key_in_both_languages():
    for key, texts in catalogue().items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key


def test_every_used_key_exists():
    used = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text(encoding="utf-8")))
        # nav.* / app.* keys passed on by name (not the file name "app.py")
        used |= set(re.findall(r"""["']((?:nav|app)\.(?!py["'])[a-z_]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "no label keys found"
    missing = sorted(used - catalogue().keys())
    assert not missing, missing


def test_placeholders_match_between_languages():
    for key, texts in catalogue().items():
        fields = {lang: set(re.findall(r"{(\w+)}", texts[lang])) for lang in LANGUAGES}
        assert fields["de"] == fields["en"], key
