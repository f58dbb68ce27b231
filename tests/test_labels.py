"""One catalogue: every key has German and English, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.i18n import LANGUAGES, catalogue, label

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


def test_every_source_finding_has_its_message_on_its_page():
    """A finding a reader records (dashboard.schema.SOURCE_FINDINGS) is shown as ``<page>.source_<code>``."""
    from dashboard.schema import SOURCE_FINDINGS

    keys = catalogue().keys()
    missing = [f"{page}.source_{code}" for page, codes in SOURCE_FINDINGS.items() for code in codes
               if f"{page}.source_{code}" not in keys]
    assert not missing, missing


def test_every_request_event_has_a_label():
    """The events a helpdesk register writes are shown translated in the request's timeline."""
    text = (ROOT / "dashboard" / "ingest" / "connectors" / "register_shapes.py").read_text(encoding="utf-8")
    events = set(re.findall(r"'(moved_in|state_changed|tag_added|tag_removed|message_in|message_out|received|"
                            r"identity_verified)'", text))
    assert len(events) == 8
    assert not [e for e in events if f"event.{e}" not in catalogue()]


def test_the_reasons_a_row_is_set_aside_read_in_either_language():
    from dashboard.presentation import reason_text

    reason = "closed_at: missing; size_bytes: not a valid BIGINT; status: unknown value (allowed: open/closed)"
    assert reason_text(reason, "de") == ("„Abgeschlossen“ fehlt; „Größe (Bytes)“ ist kein gültiger Wert (ganze Zahl); "
                                         "„Bearbeitungsstatus“ hat einen unbekannten Wert (erlaubt: open/closed)")
    assert reason_text("duplicate key ticket_id", "en") == "key “Ticket” used twice"
    assert reason_text("line 3: not valid JSON or not UTF-8", "de") == "Zeile 3: kein gültiges JSON oder kein UTF-8"
    assert reason_text("contact: needs a name or an e-mail", "en") == "contact without a name and without an e-mail"
    assert reason_text("something new", "de") == "something new" and reason_text(None, "de") is None


def test_every_download_says_what_it_holds():
    """A ZIP, a JSON, an Excel report and a calendar are not "Zeilen": each kind's label exists."""
    from dashboard.ui.jobwidgets import DOWNLOAD_LABELS

    assert set(DOWNLOAD_LABELS) == {"subject_access", "portability", "management_report", "deadlines_ics"}
    assert not [k for k in DOWNLOAD_LABELS.values() if k not in catalogue()]
    assert "Zeilen" not in label("jobs.download_report", "de", name="x.xlsx", size="1 KB", rows="5")
