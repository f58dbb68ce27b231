"""What each export job writes: CSV lists, deletion worklists, Art. 15 packages, Art. 20 JSON, the
management report.

Lists stream from DuckDB to the file with ``COPY ... TO`` (never the whole result in Python). Every
file is written as ``<name>.part`` and renamed when complete, so nothing half-written is offered.
Plain Python, no Streamlit import: worker threads and the CLI run this.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from dashboard import access, data, history, paths, presentation, queries
from dashboard.deadlines import BERLIN
from dashboard.errors import DashboardError
from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, code_labels, label, local_date
from dashboard.policy import load_policy
from dashboard.snapshot import usable_snapshot
from dashboard.sqltext import BERLIN_ZONE, identifier, literal

DELIMITERS = (";", ",")
# Formula injection: a cell a spreadsheet program would evaluate starts, after any leading white space
# or line breaks, with one of = + - @ (or their full-width forms, which some programs normalise), or
# with a tab or carriage return. The rule once in Python (``neutralise``) and once as SQL for the CSV
# projection (``formula_guard``): plain string functions, no regular expression per value.
_LEADING = "\t\n\v\f\r \u3000"
_STARTERS = "=+-@\uff1d\uff0b\uff0d\uff20"
_FORMULA = re.compile(f"^([{re.escape(_LEADING)}]*[{re.escape(_STARTERS)}]|[\t\r])")
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


@dataclass(frozen=True)
class Readable:
    """A CSV for people: list ``name``'s column titles and code labels in ``lang``, dates as the UI
    writes them (dd.mm.yyyy in German), moments in Europe/Berlin with their offset, figures rounded.
    Without it a list is machine-readable: column names, codes and ISO dates."""

    name: str
    lang: str = "de"


def _readable_expr(col: str, column: str, type_: str, readable: Readable) -> str | None:
    """The readable form of one column, or None where the value stays as it is."""
    german = readable.lang == "de"
    if type_ == "DATE":
        return f"strftime({col}, '{'%d.%m.%Y' if german else '%Y-%m-%d'}')"
    if type_.startswith("TIMESTAMP WITH TIME ZONE"):
        pattern = "%d.%m.%Y %H:%M:%S %z" if german else "%Y-%m-%d %H:%M:%S %z"
        return rf"regexp_replace(strftime({col}, '{pattern}'), '([+-]\d\d)$', '\1:00')"
    if type_.startswith("DECIMAL") or type_ in ("DOUBLE", "FLOAT"):  # amounts keep their cents
        rounded = f"{col}::VARCHAR" if type_.startswith("DECIMAL") else f"round({col}, 1)::VARCHAR"
        return f"replace({rounded}, '.', ',')" if german else rounded
    if type_ == "BOOLEAN":
        return (f"CASE WHEN {col} THEN {literal(label('app.yes', readable.lang))} "
                f"WHEN NOT {col} THEN {literal(label('app.no', readable.lang))} END")
    labels = presentation.value_labels(readable.name, column, readable.lang)
    if labels:  # catalogue text, never a formula; an unknown code passes through the formula guard
        cases = " ".join(f"WHEN {literal(code)} THEN {literal(text)}" for code, text in labels.items())
        return f"CASE {col} {cases} ELSE {formula_guard(col)} END"
    return None


def formula_guard(col: str) -> str:
    """SQL: ``col`` with a leading apostrophe where a spreadsheet would evaluate it (see _FORMULA).
    Most cells start with a letter or digit above U+0040 and below U+3000, which no risky start is:
    only the others take the exact (slower) test."""
    starters = ", ".join(literal(c) for c in _STARTERS)
    first = f"ord(left({col}, 1))"
    exact = f"left({col}, 1) IN (chr(9), chr(13)) OR left(ltrim({col}, {literal(_LEADING)}), 1) IN ({starters})"
    risky = f"({first} <= 64 OR {first} >= 12288) AND ({exact})"
    return f"CASE WHEN {risky} THEN chr(39) || {col} ELSE {col} END"


def _csv_projection(columns: list[str], types: list[str], role: str, delimiter: str, bom: bool,
                    drop: tuple[str, ...], readable: Readable | None = None) -> str:
    """The SELECT list, one vectorised expression per column: masked columns left out, formulas
    neutralised, decimal commas for German Excel, and for people titles, labels and local dates."""
    parts = []
    hidden = set(data.hidden_columns(columns, role))
    for name, type_ in zip(columns, types, strict=True):
        if name in drop or name in hidden:  # masked columns are left out, as on the pages
            continue
        col = f"q.{identifier(name)}"
        expr = _readable_expr(col, name, type_, readable) if readable else None
        if expr is None and type_ == "VARCHAR":
            expr = formula_guard(col)
        elif expr is None and delimiter == ";" and (type_.startswith("DECIMAL") or type_ in ("DOUBLE", "FLOAT")):
            expr = f"replace({col}::VARCHAR, '.', ',')"
        title = presentation.column_title(readable.name, name, readable.lang) if readable else name
        parts.append((expr or col, title))
    if not parts:
        raise ExportError("nothing to export: every column was dropped")
    if bom:  # the byte-order mark German Excel needs, written as part of the first header cell
        parts[0] = (parts[0][0], chr(0xFEFF) + parts[0][1])
    return ", ".join(f"{expr} AS {identifier(title)}" for expr, title in parts)


def copy_csv(con: duckdb.DuckDBPyConnection, sql: str, params: dict, target: Path, role: str,
             delimiter: str = ";", bom: bool = True, drop: tuple[str, ...] = (),
             readable: Readable | None = None) -> int:
    """Stream the result of ``sql`` into ``target`` as CSV; returns the rows written."""
    if delimiter not in DELIMITERS:
        raise ExportError(f"delimiter must be one of {DELIMITERS}")
    sql = sql.strip().rstrip(";")
    probe = con.sql(f"SELECT * FROM ({sql}) LIMIT 0", params=params)
    projection = _csv_projection(probe.columns, [str(t) for t in probe.types], role, delimiter, bom, drop,
                                 readable)
    part = target.with_name(target.name + ".part")
    path_literal = str(part).replace("'", "''")
    con.execute(f"SET TimeZone = {literal(BERLIN_ZONE)}")  # timestamps as ISO with the Berlin offset
    rows = con.execute(f"COPY (SELECT {projection} FROM ({sql}) AS q) TO '{path_literal}' "
                       f"(FORMAT csv, HEADER true, DELIMITER '{delimiter}', DATEFORMAT '%Y-%m-%d')",
                       params).fetchall()[0][0]
    part.replace(target)
    return int(rows)


def _readable(params: dict, name: str) -> Readable | None:
    """The job's choice: a file for people (what the pages ask for) or machine-readable (the default
    of the command line and of jobs made before the choice existed)."""
    if params.get("format", "machine") != "readable":
        return None
    return Readable(name, params.get("lang") if params.get("lang") in LANGUAGES else DEFAULT_LANGUAGE)


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
                        drop=tuple(params.get("drop", ())), readable=_readable(params, name))
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
                        job.role, delimiter=job.params.get("delimiter", ";"), bom=job.params.get("bom", True),
                        readable=_readable(job.params, "deletion_worklist"))
    finally:
        con.close()
    return target, rows


# --- Art. 15 and Art. 20 --------------------------------------------------------------------------


def _snapshot_date(con) -> dt.date:
    """The Berlin date the snapshot was built: what a package describes (restrictions as of then)."""
    return data.run(con, "snapshot_info")["built_at"][0].astimezone(BERLIN).date()


def _subject_frames(con, contact_id: str, as_of: dt.date, progress: Progress) -> dict[str, pl.DataFrame]:
    frames = {}
    for i, category in enumerate(SUBJECT_CATEGORIES):
        frames[category] = data.run(con, f"subject_{category}", contact_id=contact_id, as_of=as_of)
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
        as_of = _snapshot_date(con)
        frames = _subject_frames(con, contact_id, as_of, progress)
    finally:
        con.close()
    return contact_id, frames, as_of


def _csv_text(frame: pl.DataFrame) -> bytes:
    safe = frame.with_columns(data.as_text(frame[c], neutralise) for c, t in frame.schema.items() if t == pl.String)
    return ("\ufeff" + safe.write_csv(separator=";")).encode("utf-8")


def _art15_info() -> dict:
    return tomllib.loads(paths.art15_file().read_text(encoding="utf-8"))


def art15_file_names(readable: bool = True) -> dict[str, str]:
    """The package's file per category: the letter's German names, or the category for machines."""
    files = _art15_info()["files"]
    return {c: files[c]["file"] if readable else f"{c}.csv" for c in SUBJECT_CATEGORIES}


def _letterhead(info: dict, contact: dict, today: dt.date, lang: str, request: dict | None) -> list[tuple[str, str]]:
    """The frame of a business letter after DIN 5008: the sender's line and the subject's postal address
    (as far as known), place and date, the reference to the request, the subject line and the greeting."""
    company = info["company"]
    sender = " · ".join((company["name"], company["street"], f"{company['postal_code']} {company['city']}"))
    town = " ".join(part for part in (contact.get("postal_code"), contact.get("city")) if part)
    address = [line for line in (_person(contact), contact.get("street"), town) if line]
    blocks = [("sender", sender), ("address", "\n".join(address)),
              ("date", f"{company['city']}, {local_date(today, lang)}")]
    if request and request.get("request_id"):
        received = request.get("received")
        reference = (label("art15.reference", lang, received=local_date(dt.date.fromisoformat(received), lang),
                           request=request["request_id"]) if received
                     else label("art15.reference_only", lang, request=request["request_id"]))
        blocks.append(("reference", reference))
    return blocks + [("subject", info["title"]), ("text", label("art15.salutation", lang, name=_person(contact)))]


def art15_letter(contact: dict, counts: dict[str, int], as_of: dt.date, lang: str = "de",
                 readable: bool = True, restricted: pl.DataFrame | None = None, request: dict | None = None,
                 today: dt.date | None = None) -> list[tuple[str, str]]:
    """The Art. 15(1) cover letter as (style, text) blocks: from data/art15.toml (the privacy notice and
    the company's address), the policy and the label catalogue. A letter frame after DIN 5008 (sender,
    the subject's postal address, place and date, the request's reference, subject line, greeting); it
    lists every file of the package with what it holds and how many entries, says which records an
    erasure request restricts instead of erasing (section 5: ``restricted``, from query
    subject_restricted) and until when, and what the package does not hold and why. Values are written
    as they are: the spreadsheet guard's apostrophe belongs in the CSV files only."""
    info = _art15_info()
    policy = load_policy()
    day = local_date(as_of, lang)
    blocks = [*_letterhead(info, contact, today or dt.datetime.now(BERLIN).date(), lang, request),
              ("text", info["intro"]),
              ("bullet", f"{label('art15.subject', lang)}: {_person(contact)} ({contact['contact_id']})"),
              ("bullet", f"{label('art15.as_of', lang)}: {day}"),
              ("bullet", f"{label('art15.controller', lang)}: {info['controller']}")]
    for section in ("purposes", "legal_bases", "categories", "recipients", "source", "rights"):
        blocks += [("heading", info[section]["heading"])] + [("bullet", item) for item in info[section]["items"]]
    blocks.append(("heading", info["retention_heading"]))
    units = code_labels("unit", lang)
    for rule in policy.retention.values():
        start = f" {label('art15.from_end_of_year', lang)}" if rule.from_end_of_year else ""
        blocks.append(("bullet", f"{code_labels('category', lang)[rule.category]}: {rule.records} – "
                                 f"{rule.period} {units[rule.unit]}{start} ({rule.legal_basis})"))
    blocks.append(("heading", info["contents_heading"]))
    names = art15_file_names(readable)
    for category, count in counts.items():
        entries = label("art15.entry" if count == 1 else "art15.entries", lang)
        blocks.append(("bullet", f"{names[category]}: {info['files'][category]['what']} ({count} {entries})"))
    if restricted is not None and restricted.height:
        until = restricted["restricted_until"].max()
        blocks.append(("text", label("art15.restricted", lang, count=restricted.height, until=local_date(until, lang))))
    blocks += [("heading", info["not_included"]["heading"])]
    blocks += [("bullet", item) for item in info["not_included"]["items"]]
    closing = info["closing"]
    blocks += [("text", info["complaint"]), ("text", closing["greeting"]), ("signature", closing["place_date"]),
               ("signature", closing["signature"])]
    return blocks


def _docx(blocks: list[tuple[str, str]]) -> bytes:
    """The letter as a Word document on A4 with DIN 5008 margins, which the DPO can complete, sign and send."""
    from docx import Document  # imported when a letter is written: the pages never need it
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    section.top_margin, section.bottom_margin = Mm(27), Mm(20)
    for style, text in blocks:
        if style == "sender":  # the return address, small, above the window's address field
            run = document.add_paragraph().add_run(text)
            run.font.size = Pt(8)
        elif style == "address":
            document.add_paragraph(text).paragraph_format.space_after = Pt(36)
        elif style == "date":
            document.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif style == "subject":
            document.add_paragraph().add_run(text).bold = True
        elif style == "title":
            document.add_heading(text, level=0)
        elif style == "heading":
            document.add_heading(text, level=2)
        elif style == "bullet":
            document.add_paragraph(text, style="List Bullet")
        elif style == "signature":
            document.add_paragraph("\n\n" + "_" * 40 + "\n" + text)
        else:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _person(contact: dict) -> str:
    """Name, or the e-mail for a contact known only by it (a customer created from an e-mail)."""
    name = " ".join(part for part in (contact["first_name"], contact["last_name"]) if part)
    return name or contact["email"] or ""


ART15_LETTER = "Auskunft_Art15.docx"


def subject_access(job, store, progress: Progress) -> tuple[Path, int]:
    """Art. 15: a ZIP with the cover letter (Word) and one CSV per category of the subject's data, for
    the subject to read (German titles, labels, dd.mm.yyyy, Berlin times) or, on request, for machines
    (codes and ISO dates)."""
    contact_id = job.params.get("contact_id")
    if not contact_id:
        raise ExportError(f"{job.kind} needs a data subject (contact_id)")
    readable = job.params.get("format", "readable") == "readable"
    lang = job.params.get("lang") if job.params.get("lang") in LANGUAGES else DEFAULT_LANGUAGE
    names = art15_file_names(readable)
    target = store.output_path(job, _filename(f"auskunft_art15_{contact_id}", ".zip"))
    part = target.with_name(target.name + ".part")
    con = _snapshot_connection()
    try:
        contact = data.run(con, "subject_contact", contact_id=contact_id)
        if contact.is_empty():
            raise ExportError(f"no data subject {contact_id!r} in the snapshot")
        as_of = _snapshot_date(con)
        subject = {"contact_id": contact_id, "as_of": as_of}
        counts = {}
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch, \
                zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for i, category in enumerate(SUBJECT_CATEGORIES):
                name = f"subject_{category}"
                csv_path = Path(scratch) / names[category]
                counts[category] = copy_csv(con, queries.sql(name), data.bound_params(name, subject), csv_path,
                                            job.role, readable=Readable(name, lang) if readable else None)
                zf.write(csv_path, names[category])
                progress(10 + 80 * (i + 1) // len(SUBJECT_CATEGORIES))
            letter = art15_letter(contact.row(0, named=True), counts, as_of, lang, readable,
                                  restricted=data.run(con, "subject_restricted", **subject),
                                  request={k: job.params.get(k) for k in ("request_id", "received")})
            zf.writestr(ART15_LETTER, _docx(letter))
    finally:
        con.close()
    part.replace(target)
    progress(95)
    return target, sum(counts.values())


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
    frame = presentation.audit_frame(entries)
    readable = _readable(job.params, "audit_trail")
    if readable:
        frame = _audit_for_people(frame, readable.lang)
    target = store.output_path(job, _filename(job.params.get("filename") or "audit_trail", ".csv"))
    part = target.with_name(target.name + ".part")
    part.write_bytes(_csv_text(frame))
    part.replace(target)
    return target, frame.height


def _audit_for_people(frame: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The audit trail as the Exporte page shows it (``presentation.audit_for_people``), with the file's
    titles and its times in Europe/Berlin with seconds and offset."""
    def moment(at: str) -> str:
        local = dt.datetime.fromisoformat(at).astimezone(BERLIN)
        text = local.strftime("%d.%m.%Y %H:%M:%S %z" if lang == "de" else "%Y-%m-%d %H:%M:%S %z")
        return text[:-2] + ":" + text[-2:]

    frame = presentation.audit_for_people(frame, lang, moment)
    return frame.rename({c: label(f"audit.{c}", lang) for c in frame.columns})


def management_report(job, store, progress: Progress) -> tuple[Path, int]:
    from dashboard import report

    target = store.output_path(job, _filename(job.params.get("filename") or "management_bericht", ".xlsx"))
    part = target.with_name(target.name + ".part")
    con = _snapshot_connection()
    try:
        rows = report.write_xlsx(con, part, progress, lang=job.params.get("lang", "de"), previous=_previous())
    finally:
        con.close()
    part.replace(target)
    return target, rows


def _previous() -> dict[str, float | None]:
    """The figures of the build before the live snapshot (the overview tiles' arrows); none when the KPI
    history cannot be read: the report's figures do not depend on it."""
    snapshot = usable_snapshot().path
    try:
        return {} if snapshot is None else history.KpiHistory().previous(snapshot.name)
    except history.HistoryUnavailable:
        return {}


def deadlines_ics(job, store, progress: Progress) -> tuple[Path, int]:
    """The open request deadlines and running breach clocks as a calendar file (dashboard.calendar_ics);
    links point at ``base_url`` (the cockpit's address the page was opened at), when given."""
    from dashboard import calendar_ics

    lang = job.params.get("lang") if job.params.get("lang") in LANGUAGES else DEFAULT_LANGUAGE
    con = _snapshot_connection()
    try:
        payload = calendar_ics.build(con, dt.datetime.now(dt.UTC), load_policy().settings, lang,
                                     job.params.get("base_url"))
    finally:
        con.close()
    target = store.output_path(job, "fristen.ics")
    part = target.with_name(target.name + ".part")
    part.write_bytes(payload)
    part.replace(target)
    return target, payload.count(b"BEGIN:VEVENT")


KINDS: dict[str, Callable] = {
    "list_csv": list_csv, "deletion_worklist": deletion_worklist, "subject_access": subject_access,
    "portability": portability, "audit_csv": audit_csv, "management_report": management_report,
    "deadlines_ics": deadlines_ics,
}


def run(job, store, progress: Progress) -> tuple[Path, int]:
    try:
        handler = KINDS[job.kind]
    except KeyError:
        raise ExportError(f"unknown export kind {job.kind!r}") from None
    return handler(job, store, progress)

