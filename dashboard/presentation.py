"""How each list reads to a person: which columns hold codes (and from which catalogue group their
labels come) and which catalogue key titles a column where ``col.<name>`` is not the right one.

One table for the page that shows a list and the CSV that exports it, so a file handed on reads
like the page it came from. Plain Python, no Streamlit import.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from dashboard.data import as_text
from dashboard.i18n import catalogue, code_labels, label, local_date


@dataclass(frozen=True)
class ListLook:
    codes: dict[str, str] = field(default_factory=dict)  # column -> catalogue group of its values
    titles: dict[str, str] = field(default_factory=dict)  # column -> catalogue key of its title


LISTS: dict[str, ListLook] = {
    "request_queue": ListLook(codes={"right": "right", "channel": "channel", "extension": "extension",
                                     "clock": "status", "status": "request_status"}),
    "retention_due_list": ListLook(codes={"category": "category", "system": "system", "record_type": "record",
                                          "status": "status", "hold_kind": "hold", "finding": "retention_finding",
                                          "hold_reason": "hold_reason"},
                                   titles={"status": "retention.status"}),
    "deletion_worklist": ListLook(codes={"record_type": "record", "category": "category",
                                         "finding": "retention_finding"}),
    "deletable_subjects": ListLook(),
    "consent_findings": ListLook(codes={"purpose": "purpose", "state": "consent_state", "channel": "consent_channel"},
                                 titles={"state": "consent.state"}),
    "incident_register": ListLook(codes={"type": "breach_type", "risk": "risk", "clock": "status", "art34": "art34",
                                         "status": "incident_status"},
                                  titles={"status": "incidents.status"}),
    "rejected_rows": ListLook(),
    # The erasure proof (one row per system's deletion task) and the tasks a system did not finish.
    "erasure_proofs": ListLook(codes={"system": "system", "record_type": "record", "state": "deletion_state"},
                               titles={"state": "col.deletion_state"}),
    # The files of an Art. 15 package (exports.SUBJECT_CATEGORIES), read by the data subject.
    "subject_contact": ListLook(),
    "subject_identities": ListLook(),
    "subject_tickets": ListLook(codes={"status": "ticket_status", "category": "ticket_category"},
                                titles={"status": "col.ticket_status", "category": "col.ticket_category"}),
    "subject_attachments": ListLook(codes={"kind": "attachment_kind"}, titles={"kind": "col.attachment_kind"}),
    "subject_contracts": ListLook(codes={"status": "contract_status"}, titles={"status": "col.contract_status"}),
    "subject_invoices": ListLook(),
    "subject_consents": ListLook(codes={"purpose": "purpose", "action": "consent_action",
                                        "channel": "consent_channel"}),
    "subject_requests": ListLook(codes={"right": "right", "channel": "channel", "status": "request_status"}),
    "subject_holds": ListLook(codes={"record_type": "record", "kind": "hold"}, titles={"kind": "col.hold_kind"}),
}


def look(name: str) -> ListLook:
    return LISTS.get(name, ListLook())


def title_key(name: str, column: str) -> str:
    """The catalogue key of a column's title in list ``name``."""
    return look(name).titles.get(column, f"col.{column}")


def column_title(name: str, column: str, lang: str) -> str:
    """A column's title in ``lang``; a column the catalogue does not name keeps its own name."""
    key = title_key(name, column)
    return label(key, lang) if key in catalogue() else column


def value_labels(name: str, column: str, lang: str) -> dict[str, str]:
    """The labels of a coded column's values in ``lang`` (empty for a column that holds no codes)."""
    group = look(name).codes.get(column)
    return code_labels(group, lang) if group else {}


# Why the build set a row aside (build/validate.py, the readers, schema checks), as the UI says it: each
# reason of a row ("; "-separated) matched by its form; one this table does not know is shown as it is.
_REASONS = (
    (re.compile(r"^(\w+): missing$"), "reason.missing"),
    (re.compile(r"^(\w+): not a valid (\w+)$"), "reason.not_valid"),
    (re.compile(r"^(\w+): unknown value \(allowed: (.*)\)$"), "reason.unknown_value"),
    (re.compile(r"^duplicate key (\w+)$"), "reason.duplicate_key"),
    (re.compile(r"^line (\d+): not valid JSON or not UTF-8$"), "reason.not_json"),
)
_CHECKS = {"contact: needs a name or an e-mail": "reason.contact_name_or_email",
           "closed_at: missing for status closed": "reason.closed_without_time",
           "completed_at: missing for state completed": "reason.completed_without_time"}
_TYPES = {"de": {"TIMESTAMPTZ": "Zeitpunkt", "DATE": "Datum", "INTEGER": "ganze Zahl", "BIGINT": "ganze Zahl",
                 "DECIMAL": "Betrag", "BOOLEAN": "ja/nein"},
          "en": {"TIMESTAMPTZ": "timestamp", "DATE": "date", "INTEGER": "whole number", "BIGINT": "whole number",
                 "DECIMAL": "amount", "BOOLEAN": "yes/no"}}


def reason_text(reason: str | None, lang: str) -> str | None:
    """A rejected row's reasons in ``lang``: column titles from the catalogue, the rule in words."""
    if reason is None:
        return None
    return "; ".join(_one_reason(part, lang) for part in reason.split("; "))


def _one_reason(part: str, lang: str) -> str:
    if part in _CHECKS:
        return label(_CHECKS[part], lang)
    for pattern, key in _REASONS:
        match = pattern.match(part)
        if match:
            first = match.group(1)
            values = {"line": first} if key == "reason.not_json" else {"column": _column(first, lang)}
            if key == "reason.not_valid":
                values["type"] = _TYPES[lang].get(match.group(2), match.group(2))
            if key == "reason.unknown_value":
                values["allowed"] = match.group(2)
            return label(key, lang, **values)
    return part


def _column(name: str, lang: str) -> str:
    key = f"col.{name}"
    return label(key, lang) if key in catalogue() else name


def job_parameters(stored: str | None, lang: str) -> str | None:
    """A job's stored parameters (JSON, dates as {"__date__": ...}: dashboard.jobs) as a person reads
    them: "name: value; ..." with dates in the language's format, a list's filters in brackets, empty ones
    left out. Text that is not such JSON is returned as it is."""
    try:
        given = json.loads(stored) if stored else {}
    except (TypeError, ValueError):
        return stored
    return _parameters(given, lang) if isinstance(given, dict) else stored


def _parameters(given: dict, lang: str) -> str:
    def shown(value) -> str:
        if isinstance(value, dict) and set(value) in ({"__date__"}, {"__datetime__"}):
            text = next(iter(value.values()))
            day = dt.date.fromisoformat(text[:10])
            return local_date(day, lang) + text[10:16].replace("T", " ")
        if isinstance(value, dict):
            return "(" + _parameters(value, lang) + ")"
        if isinstance(value, list):
            return ", ".join(shown(v) for v in value)
        return str(value)

    return "; ".join(f"{k}: {shown(v)}" for k, v in given.items() if v not in (None, "", [], {}))


# The job store's audit entries as a table: the Exporte page and the audit CSV read the same columns.
AUDIT_COLUMNS = {"seq": pl.Int64, "at": pl.String, "user": pl.String, "role": pl.String, "action": pl.String,
                 "kind": pl.String, "job_id": pl.String, "params": pl.String, "rows": pl.Int64, "sha256": pl.String}


def audit_frame(entries: list) -> pl.DataFrame:
    return pl.DataFrame(entries, schema=AUDIT_COLUMNS)


def audit_for_people(frame: pl.DataFrame, lang: str, moment: Callable[[str], str]) -> pl.DataFrame:
    """The audit trail as a person reads it, on the page and in the file alike: roles, actions and kinds as
    labels in ``lang`` (a kind without one as it is), each entry's time written by ``moment`` (the page
    to the minute, the file with seconds and offset), the job's parameters as "name: value"."""
    groups = {"role": "role", "action": "audit_action", "kind": "export_kind"}
    return frame.with_columns(as_text(frame["at"], moment),
                              as_text(frame["params"], lambda text: job_parameters(text, lang)),
                              *(pl.col(c).replace(code_labels(g, lang)) for c, g in groups.items()))
