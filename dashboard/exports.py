"""What each export job writes: CSV lists, deletion worklists, Art. 15 packages, Art. 20 JSON, the
management report.

Lists stream from DuckDB to the file with ``COPY ... TO`` (never the whole result in Python). Every
file is written as ``<name>.part`` and renamed when complete, so nothing half-written is offered.
Plain Python, no Streamlit import: worker threads and the CLI run this.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from dashboard import access, data, paths, queries
from dashboard.deadlines import BERLIN
from dashboard.errors import DashboardError
from dashboard.i18n import code_labels, label
from dashboard.policy import load_policy
from dashboard.snapshot import usable_snapshot
from dashboard.sqltext import identifier

DELIMITERS = (";", ",")
# Formula injection: a cell a spreadsheet program would evaluate starts, after any leading white space
# or line breaks, with one of = + - @ (or their full-width forms, which some programs normalise), or
# with a tab or carriage return. One pattern, used by the vectorised CSV projection and in Python.
FORMULA_PATTERN = r"^([\t\n\v\f\r \x{3000}]*[=+\-@\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]|[\t\r])"
_FORMULA = re.compile(r"^([\t\n\v\f\r \u3000]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]|[\t\r])")
# Art. 15 package: one CSV per category (query subject_<category>) and the canonical table it reads.
SUBJECT_CATEGORIES = {"contact": "contacts", "identities": "contacts", "tickets": "tickets",
                      "attachments": "attachments", "contracts": "contracts", "invoices": "invoices",
                      "consents": "consent_events", "requests": "requests", "holds": "holds"}

Progress = Callable[[int], None]


class ExportError(DashboardError, ValueError):
    """The export cannot be made as asked; the message says why (shown on the Exporte page)."""

    label = "errors.export"


# --- CSV ----------------------------------------------------------------------------------------


def neutralise(value: object) -> object:
    """Formula injection: text that a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def _csv_projection(columns: list[str], types: list[str], role: str, delimiter: str, bom: bool,
                    drop: tuple[str, ...]) -> str:
    """The SELECT list that masks, neutralises formulas and (for German Excel) uses decimal commas."""
    parts = []
    hidden = set(data.hidden_columns(columns, role))
    for name, type_ in zip(columns, types, strict=True):
        if name in drop:
            continue
        col = f"q.{identifier(name)}"
        if name in hidden:
            expr = f"'{data.MASK}'"
        elif type_ == "VARCHAR":
            expr = f"CASE WHEN regexp_matches({col}, '{FORMULA_PATTERN}') THEN '''' || {col} ELSE {col} END"
        elif delimiter == ";" and (type_.startswith("DECIMAL") or type_ in ("DOUBLE", "FLOAT")):
            expr = f"replace({col}::VARCHAR, '.', ',')"
        else:
            expr = col
        parts.append(f"{expr} AS {identifier(name)}")
    if not parts:
        raise ExportError("nothing to export: every column was dropped")
    if bom:  # the byte-order mark German Excel needs, written as part of the first header cell
        first_expr, first_name = parts[0].rsplit(" AS ", 1)
        parts[0] = f"{first_expr} AS {identifier(chr(0xFEFF) + first_name.strip(chr(34)))}"
    return ", ".join(parts)


def copy_csv(con: duckdb.DuckDBPyConnection, sql: str, params: dict, target: Path, role: str,
             delimiter: str = ";", bom: bool = True, drop: tuple[str, ...] = ()) -> int:
    """Stream the result of ``sql`` into ``target`` as CSV; returns the rows written."""
    if delimiter not in DELIMITERS:
        raise ExportError(f"delimiter must be one of {DELIMITERS}")
    sql = sql.strip().rstrip(";")
    probe = con.sql(f"SELECT * FROM ({sql}) LIMIT 0", params=params)
    projection = _csv_projection(probe.columns, [str(t) for t in probe.types], role, delimiter, bom, drop)
    part = target.with_name(target.name + ".part")
    path_literal = str(part).replace("'", "''")
    con.execute("SET TimeZone = 'Europe/Berlin'")  # timestamps as ISO with the Berlin offset
    rows = con.execute(f"COPY (SELECT {projection} FROM ({sql}) AS q) TO '{path_literal}' "
                       f"(FORMAT csv, HEADER true, DELIMITER '{delimiter}', DATEFORMAT '%Y-%m-%d')",
                       params).fetchall()[0][0]
    part.replace(target)
    return int(rows)


def _snapshot_connection() -> duckdb.DuckDBPyConnection:
    snapshot = usable_snapshot().path  # the live one, or the newest readable one if it is damaged
    if snapshot is None:
        raise ExportError("no readable snapshot published")
    return data.connect(snapshot)


def _filename(stem: str, suffix: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:80] or "export"
    return f"{safe}{suffix}"


def list_csv(job, store, progress: Progress) -> tuple[Path, int]:
    params = job.params
    name = params.get("query")
    if name not in access.LIST_QUERIES:
        raise ExportError(f"{name!r} is not an exportable list")
    query_params = data.bound_params(name, dict(params.get("params", {})))
    target = store.output_path(job, _filename(params.get("filename") or name, ".csv"))
    sql = queries.sql(name).strip().rstrip(";")
    if params.get("max_rows") is not None:  # the first N rows only (the benchmark's fixed-size export)
        sql = f"SELECT * FROM ({sql}) LIMIT {int(params['max_rows'])}"
    con = _snapshot_connection()
    try:
        progress(10)
        rows = copy_csv(con, sql, query_params, target, job.role,
                        delimiter=params.get("delimiter", ";"), bom=params.get("bom", True),
                        drop=tuple(params.get("drop", ())))
    finally:
        con.close()
    return target, rows


def deletion_worklist(job, store, progress: Progress) -> tuple[Path, int]:
    """The Löschliste of one source system: record ids due for deletion (R3.3, R3.4)."""
    system, as_of = job.params.get("system"), job.params.get("as_of")
    if not system or not isinstance(as_of, dt.date):
        raise ExportError("a deletion worklist needs a source system and a date")
    target = store.output_path(job, _filename(f"loeschliste_{system}_{as_of.isoformat()}", ".csv"))
    con = _snapshot_connection()
    try:
        progress(10)
        rows = copy_csv(con, queries.sql("deletion_worklist"), {"as_of": as_of, "system": system}, target,
                        job.role, delimiter=job.params.get("delimiter", ";"), bom=job.params.get("bom", True))
    finally:
        con.close()
    return target, rows


# --- Art. 15 and Art. 20 --------------------------------------------------------------------------


def _subject_frames(con, contact_id: str, progress: Progress) -> dict[str, pl.DataFrame]:
    frames = {}
    for i, category in enumerate(SUBJECT_CATEGORIES):
        frames[category] = data.run(con, f"subject_{category}", contact_id=contact_id)
        progress(10 + 70 * (i + 1) // len(SUBJECT_CATEGORIES))
    if frames["contact"].is_empty():
        raise ExportError(f"no data subject {contact_id!r} in the snapshot")
    return frames


def _subject_data(job, progress: Progress) -> tuple[str, dict[str, pl.DataFrame], dt.date]:
    """The job's data subject, their data per category, and the date of the snapshot it comes from."""
    contact_id = job.params.get("contact_id")
    if not contact_id:
        raise ExportError(f"{job.kind} needs a data subject (contact_id)")
    con = _snapshot_connection()
    try:
        frames = _subject_frames(con, contact_id, progress)
        as_of = data.run(con, "snapshot_info")["built_at"][0].astimezone(BERLIN).date()
    finally:
        con.close()
    return contact_id, frames, as_of


def _csv_text(frame: pl.DataFrame) -> bytes:
    safe = frame.with_columns(pl.col(c).map_elements(neutralise, return_dtype=pl.String)
                              for c, t in frame.schema.items() if t == pl.String)
    return ("\ufeff" + safe.write_csv(separator=";")).encode("utf-8")


def art15_summary(contact: dict, frames: dict[str, pl.DataFrame], as_of: dt.date, lang: str = "de") -> str:
    """The readable Art. 15(1) information: from data/art15.toml (the privacy notice), the policy and
    the label catalogue (the letter goes to a German data subject: German unless asked otherwise)."""
    info = tomllib.loads(paths.art15_file().read_text(encoding="utf-8"))
    policy = load_policy()
    lines = [f"# {info['title']}", "",
             f"{info['intro']}", "",
             f"- {label('art15.subject', lang)}: {_person(contact)} ({contact['contact_id']})",
             f"- {label('art15.as_of', lang)}: {as_of.strftime('%d.%m.%Y') if lang == 'de' else as_of.isoformat()}",
             f"- {label('art15.controller', lang)}: {info['controller']}", ""]
    for section in ("purposes", "legal_bases", "categories", "recipients", "source", "rights"):
        lines += [f"## {info[section]['heading']}", ""] + [f"- {item}" for item in info[section]["items"]] + [""]
    lines += [f"## {info['retention_heading']}", ""]
    units = code_labels("unit", lang)
    for rule in policy.retention.values():
        start = f" {label('art15.from_end_of_year', lang)}" if rule.from_end_of_year else ""
        lines.append(f"- {code_labels('category', lang)[rule.category]}: {rule.records} – "
                     f"{rule.period} {units[rule.unit]}{start} ({rule.legal_basis})")
    lines += ["", f"## {info['contents_heading']}", ""]
    for category, frame in frames.items():
        entries = label("art15.entry" if frame.height == 1 else "art15.entries", lang)
        lines.append(f"- {category}.csv: {frame.height} {entries}")
    lines += ["", info["complaint"], ""]
    return "\n".join(lines)


def _person(contact: dict) -> str:
    """Name, or the e-mail for a contact known only by it (a customer created from an e-mail)."""
    name = " ".join(part for part in (contact["first_name"], contact["last_name"]) if part)
    return name or contact["email"] or ""


def subject_access(job, store, progress: Progress) -> tuple[Path, int]:
    """Art. 15: a ZIP with one CSV per category of the subject's data and the Art. 15(1) summary."""
    contact_id, frames, as_of = _subject_data(job, progress)
    target = store.output_path(job, _filename(f"auskunft_art15_{contact_id}", ".zip"))
    part = target.with_name(target.name + ".part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Auskunft_Art15.md", art15_summary(frames["contact"].row(0, named=True), frames, as_of))
        for category, frame in frames.items():
            zf.writestr(f"{category}.csv", _csv_text(frame))
    part.replace(target)
    progress(95)
    return target, sum(f.height for f in frames.values())


PROVIDED = ("contact", "tickets", "consents", "requests")  # what the subject gave us themselves


def portability(job, store, progress: Progress) -> tuple[Path, int]:
    """Art. 20: the data the subject provided, structured and machine-readable (JSON)."""
    contact_id, frames, _ = _subject_data(job, progress)
    document = {"format": "aelvirionek-art20-v1", "contact_id": contact_id,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **{c: json.loads(frames[c].write_json()) for c in PROVIDED}}
    document["contact"] = document["contact"][0]
    target = store.output_path(job, _filename(f"datenuebertragbarkeit_art20_{contact_id}", ".json"))
    part = target.with_name(target.name + ".part")
    part.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    part.replace(target)
    return target, sum(frames[c].height for c in PROVIDED)


# --- audit trail and management report -----------------------------------------------------------


def audit_csv(job, store, progress: Progress) -> tuple[Path, int]:
    entries = store.audit_entries(user=job.params.get("user"), kind=job.params.get("kind"),
                                  since=job.params.get("since"))
    frame = pl.DataFrame(entries, schema={"seq": pl.Int64, "at": pl.String, "user": pl.String, "role": pl.String,
                                          "action": pl.String, "kind": pl.String, "job_id": pl.String,
                                          "params": pl.String, "rows": pl.Int64, "sha256": pl.String})
    target = store.output_path(job, _filename(job.params.get("filename") or "audit_trail", ".csv"))
    part = target.with_name(target.name + ".part")
    part.write_bytes(_csv_text(frame))
    part.replace(target)
    return target, frame.height


def management_report(job, store, progress: Progress) -> tuple[Path, int]:
    from dashboard import report

    target = store.output_path(job, _filename(job.params.get("filename") or "management_bericht", ".xlsx"))
    part = target.with_name(target.name + ".part")
    con = _snapshot_connection()
    try:
        rows = report.write_xlsx(con, part, progress, lang=job.params.get("lang", "de"))
    finally:
        con.close()
    part.replace(target)
    return target, rows


KINDS: dict[str, Callable] = {
    "list_csv": list_csv, "deletion_worklist": deletion_worklist, "subject_access": subject_access,
    "portability": portability, "audit_csv": audit_csv, "management_report": management_report,
}


def run(job, store, progress: Progress) -> tuple[Path, int]:
    try:
        handler = KINDS[job.kind]
    except KeyError:
        raise ExportError(f"unknown export kind {job.kind!r}") from None
    return handler(job, store, progress)

