"""What the cockpit sends by e-mail: the DPO's digest, management's figures and breach alerts, as
subject, plain text and HTML in the recipient's language.

Everything comes from the pages' own named queries (the queue as Betroffenenanfragen shows it, the
register as Datenpannen shows it, the overview's headline figures), so a mail never says something the
cockpit does not. E-mail is no confidential channel: a mail names requests and incidents by id, rights,
counts, dates and the assignee (staff), never a data subject's name, address or free text. Each item
links to its place in the cockpit. Sending, cadence and what was already sent: ``dashboard.notify``.
Plain Python, no Streamlit import.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from dataclasses import dataclass, field

import duckdb
import polars as pl

from dashboard import calendar_ics, data, kpis
from dashboard.deadlines import BERLIN
from dashboard.i18n import code_labels, label, local_date, local_moment
from dashboard.policy import Policy

STALE_AFTER = dt.timedelta(days=2)  # "Datenstand veraltet" is itself an alert
ALERT_CLOCKS = ("open", "warning", "overdue")  # each level is sent once per incident


@dataclass
class DpoDigest:
    """The DPO's items at ``now``; lists of plain dicts (ids, rights, counts, dates, assignees)."""

    now: dt.datetime
    built_at: dt.datetime | None
    received: list[dict] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)
    due_soon: list[dict] = field(default_factory=list)
    breaches: list[dict] = field(default_factory=list)
    late_without_reason: list[dict] = field(default_factory=list)
    erasures: list[dict] = field(default_factory=list)
    deletions: list[dict] = field(default_factory=list)  # deletion tasks a system did not finish
    consent: list[dict] = field(default_factory=list)  # purpose, finding, count, before
    rejected: list[dict] = field(default_factory=list)  # table_name, rejected
    build_failed: dict | None = None  # at, error: the last build attempt failed
    seen_requests: list[str] = field(default_factory=list)  # every request id known now (the state)
    finding_counts: dict[str, int] = field(default_factory=dict)  # "purpose:finding" -> count (the state)
    checked_at: dt.datetime | None = None  # a refresh since found the sources unchanged

    @property
    def stale(self) -> bool:
        """Not refreshed for a day: neither built nor found unchanged by a refresh."""
        return self.built_at is None or self.now - max(self.built_at, self.checked_at or self.built_at) > STALE_AFTER

    @property
    def needs_action(self) -> bool:
        return bool(self.overdue or self.due_soon or self.breaches or self.erasures or self.deletions or self.stale
                    or self.build_failed)


def dpo_digest(con: duckdb.DuckDBPyConnection | None, now: dt.datetime, policy: Policy,
               seen_requests: set[str] | None, finding_counts: dict[str, int], since: dt.datetime,
               build_failed: dict | None) -> DpoDigest:
    """The DPO's digest. ``seen_requests``: the request ids an earlier digest to this recipient knew
    (None: none sent yet, so "new" means received since ``since``); ``finding_counts``: the consent
    findings it counted. ``con`` None: no readable snapshot (the digest says only that)."""
    digest = DpoDigest(now, None, build_failed=build_failed)
    if con is None:
        return digest
    settings = policy.settings
    run = functools.partial(data.run, con)
    digest.built_at = run("snapshot_info")["built_at"][0]
    as_of = now.astimezone(BERLIN).date()
    requests = run("digest_requests")
    digest.seen_requests = requests["request_id"].to_list()
    new = requests.filter(requests["received_date"] > since.astimezone(BERLIN).date()) if seen_requests is None \
        else requests.filter(~requests["request_id"].is_in(sorted(seen_requests)))
    digest.received = new.filter(new["received_date"] <= as_of).to_dicts()
    queue = calendar_ics.open_requests(con, as_of, settings)
    digest.overdue = [r for r in queue if r["clock"] == "overdue"]
    digest.due_soon = [r for r in queue if r["clock"] == "due_soon"]
    digest.breaches = calendar_ics.running_breaches(con, now, settings)
    register = run("incident_register", as_of=now, warning_hours=settings.breach_warning_hours,
                   clocks=["notified_late"], window_months=None)
    digest.late_without_reason = [{"incident_id": r["incident_id"], "hours_late": r["hours_late"]}
                                  for r in register.iter_rows(named=True)
                                  if r["delay_reason"] is None and r["authority_notified_at"] > since]
    erasures = run("erasure_findings", as_of=as_of, request_id=None)
    digest.erasures = (erasures.group_by("request_id", maintain_order=True)
                       .agg(pl.col("erasure_date").first(), pl.col("system").n_unique().alias("systems"))
                       .to_dicts() if erasures.height else [])
    digest.deletions = run("deletion_task_findings", now=now).to_dicts()
    counts = run("consent_finding_counts", as_of=as_of, current_version=settings.current_notice_version,
                 pending_days=settings.pending_optin_max_days)
    digest.finding_counts = {f"{p}:{f}": int(n) for p, f, n in counts.iter_rows() if f != "any"}
    digest.consent = [{"purpose": k.split(":")[0], "finding": k.split(":")[1], "count": n,
                       "before": finding_counts.get(k, 0)}
                      for k, n in digest.finding_counts.items() if n > finding_counts.get(k, 0)]
    tables = run("source_tables")
    digest.rejected = tables.filter(tables["rejected"] > 0).select("table_name", "rejected").to_dicts()
    return digest


def breach_alerts(con: duckdb.DuckDBPyConnection, now: dt.datetime, policy: Policy,
                  alerted: set[tuple[str, str]]) -> list[dict]:
    """Breach clocks the DPO has not been alerted to at their present level: a new breach with a running
    clock ("open"), one with less than the warning hours left ("warning"), one past 72 hours ("overdue")."""
    return [b for b in calendar_ics.running_breaches(con, now, policy.settings)
            if b["clock"] in ALERT_CLOCKS and (b["incident_id"], b["clock"]) not in alerted]


def management_figures(con: duckdb.DuckDBPyConnection, now: dt.datetime, policy: Policy) -> list[dict]:
    """The overview's headline figures now and a week before (read as things stood then), each with its
    traffic light. Aggregates only."""
    run = functools.partial(data.run, con)
    as_of = now.astimezone(BERLIN).date()
    current = kpis.headline(run, as_of, now, policy.settings)
    before = kpis.headline(run, as_of - dt.timedelta(days=7), now - dt.timedelta(days=7), policy.settings)
    return [{"kpi": key, "value": current[key], "before": before[key], "unit": unit,
             "light": kpis.traffic_light(current[key], policy.thresholds.get(key))} for key, _, unit in kpis.KPIS]


# --- rendering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


def _t(key: str, lang: str, **values) -> str:
    return label(f"digest.{key}", lang, **values)


def _n(key: str, lang: str, count: int, **values) -> str:
    """A label with a count, in its singular or plural form."""
    return _t(f"{key}_{'one' if count == 1 else 'many'}", lang, n=count, **values)


def _hours(value: float | None) -> str:
    """Whole hours (a clock's hours left or late)."""
    return f"{abs(value or 0):.0f}"


class _Doc:
    """Sections of lines, written once as plain text and once as HTML (every value escaped)."""

    def __init__(self):
        self.text: list[str] = []
        self.html: list[str] = []

    def para(self, line: str) -> None:
        self.text += [line, ""]
        self.html.append(f"<p>{html.escape(line)}</p>")

    def section(self, title: str, items: list[tuple[str, str | None]]) -> None:
        """``items``: (line, link) pairs; a section without items is left out."""
        if not items:
            return
        self.text += [title, "-" * len(title)]
        self.text += [f"- {line}" + (f"\n  {url}" if url else "") for line, url in items]
        self.text.append("")
        self.html.append(f"<h3>{html.escape(title)}</h3><ul>")
        self.html += [f'<li><a href="{html.escape(url)}">{html.escape(line)}</a></li>' if url
                      else f"<li>{html.escape(line)}</li>" for line, url in items]
        self.html.append("</ul>")

    def mail(self, subject: str) -> Mail:
        body = "".join(self.html)
        return Mail(subject, "\n".join(self.text).rstrip() + "\n",
                    f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="font-family:sans-serif">'
                    f"{body}</body></html>")


def _request_line(r: dict, lang: str, rights: dict) -> str:
    days = r["days_left"]
    when = _n("overdue_since", lang, -days) if days < 0 else _n("days_left", lang, days)
    parts = [r["request_id"], rights.get(r["right"], r["right"]), when,
             _t("deadline", lang, date=local_date(r["deadline"], lang))]
    return " · ".join(parts + ([r["assignee"]] if r.get("assignee") else []))


def render_dpo(d: DpoDigest, lang: str, base_url: str | None) -> Mail:
    rights = code_labels("right", lang)
    doc = _Doc()
    day = local_date(d.now.astimezone(BERLIN).date(), lang)
    doc.para(_t("dpo_intro", lang, date=day))
    if d.build_failed:
        doc.para(_t("build_failed", lang, at=local_moment(dt.datetime.fromisoformat(d.build_failed["at"]), lang),
                    error=d.build_failed["error"]))
    if d.stale:
        doc.para(_t("stale", lang, at=local_moment(d.built_at, lang)) if d.built_at else _t("no_snapshot", lang))

    def request_link(request_id: str) -> str | None:
        return calendar_ics.link(base_url, "anfragen", "request", request_id, lang)

    def incident_link(incident_id: str) -> str | None:
        return calendar_ics.link(base_url, "datenpannen", "incident", incident_id, lang)

    doc.section(_t("section_overdue", lang), [(_request_line(r, lang, rights), request_link(r["request_id"]))
                                              for r in d.overdue])
    doc.section(_t("section_due_soon", lang), [(_request_line(r, lang, rights), request_link(r["request_id"]))
                                               for r in d.due_soon])
    doc.section(_t("section_breaches", lang), [(_breach_line(b, lang), incident_link(b["incident_id"]))
                                               for b in d.breaches])
    doc.section(_t("section_late_without_reason", lang), [
        (_t("late_without_reason", lang, incident_id=b["incident_id"], hours=_hours(b["hours_late"])),
         incident_link(b["incident_id"])) for b in d.late_without_reason])
    doc.section(_t("section_received", lang), [
        (f"{r['request_id']} · {rights.get(r['right'], r['right'])} · "
         f"{_t('received_on', lang, date=local_date(r['received_date'], lang))}", request_link(r["request_id"]))
        for r in d.received])
    doc.section(_t("section_erasures", lang), [
        (_n("erasure_line", lang, r["systems"], request_id=r["request_id"], date=local_date(r["erasure_date"], lang)),
         request_link(r["request_id"])) for r in d.erasures])
    systems = code_labels("system", lang)
    doc.section(_t("section_deletions", lang), [
        (_t(f"deletion_{task['state']}", lang, system=systems.get(task["system"], task["system"]),
            task=task["task_id"], date=local_date(task["created_at"].astimezone(BERLIN).date(), lang)),
         _page(base_url, "loeschfristen", lang))
        for task in d.deletions])
    findings = code_labels("digest_finding", lang)
    purposes = code_labels("purpose", lang)
    doc.section(_t("section_consent", lang), [
        (_t("consent_line", lang, purpose=purposes.get(f["purpose"], f["purpose"]),
            finding=findings.get(f["finding"], f["finding"]), count=f["count"], before=f["before"]),
         _page(base_url, "einwilligungen", lang)) for f in d.consent])
    doc.section(_t("section_rejected", lang), [
        (_n("rejected_line", lang, r["rejected"], table=r["table_name"]), _page(base_url, "datenqualitaet", lang))
        for r in d.rejected])
    if not d.needs_action and not (d.received or d.consent or d.rejected or d.late_without_reason):
        doc.para(_t("nothing", lang))
    doc.para(_t("footer", lang))
    return doc.mail(dpo_subject(d, lang))


def _page(base_url: str | None, page: str, lang: str) -> str | None:
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/{page}" + ("" if lang == "de" else f"?lang={lang}")


def _breach_line(b: dict, lang: str) -> str:
    deadline = local_moment(b["notification_deadline"], lang)
    if b["clock"] == "overdue":
        return _t("breach_overdue", lang, incident_id=b["incident_id"], hours=_hours(b["hours_late"]),
                  deadline=deadline)
    return _t("breach_open", lang, incident_id=b["incident_id"], hours=_hours(b["hours_left"]), deadline=deadline)


def dpo_subject(d: DpoDigest, lang: str) -> str:
    """What needs action, first the most urgent: "2 Anfragen überfällig, 1 Datenpanne: 14 h verbleibend"."""
    parts = []
    if d.build_failed:
        parts.append(_t("subject_build_failed", lang))
    if d.stale:
        parts.append(_t("subject_stale", lang))
    if d.overdue:
        parts.append(_n("subject_overdue", lang, len(d.overdue)))
    late = [b for b in d.breaches if b["clock"] == "overdue"]
    running = [b for b in d.breaches if b["clock"] != "overdue"]
    if late:
        parts.append(_n("subject_breach_overdue", lang, len(late)))
    if running:
        least = min(b["hours_left"] for b in running)
        parts.append(_n("subject_breach_running", lang, len(running), hours=_hours(least)))
    if d.due_soon:
        parts.append(_n("subject_due_soon", lang, len(d.due_soon)))
    if d.erasures:
        parts.append(_n("subject_erasures", lang, len(d.erasures)))
    return ", ".join(parts) if parts else _t("subject_nothing", lang,
                                              date=local_date(d.now.astimezone(BERLIN).date(), lang))


def render_alert(b: dict, lang: str, base_url: str | None) -> Mail:
    """One breach whose clock runs (or ran out): what is due by when, and the link."""
    doc = _Doc()
    line = _breach_line(b, lang)
    doc.para(line)
    doc.para(_t("alert_what", lang))
    doc.section(_t("section_breaches", lang),
                [(b["incident_id"], calendar_ics.link(base_url, "datenpannen", "incident", b["incident_id"], lang))])
    doc.para(_t("footer", lang))
    return doc.mail(_t("alert_subject", lang, line=line))


def render_management(figures: list[dict], now: dt.datetime, lang: str, base_url: str | None) -> Mail:
    lights = code_labels("digest_light", lang)
    doc = _Doc()
    day = local_date(now.astimezone(BERLIN).date(), lang)
    doc.para(_t("management_intro", lang, date=day))
    items = []
    for f in figures:
        value, before = f["value"], f["before"]
        shown = _figure(value, f["unit"], lang)
        change = "" if value is None or before is None or value == before else _t(
            "change", lang, delta=_figure(value - before, f["unit"], lang, signed=True))
        light = f" ({lights[f['light']]})" if f["light"] else ""
        name = label("report." + f["kpi"], lang)
        items.append((f"{name}: {shown}{change}{light}", None))
    doc.section(_t("section_figures", lang), items)
    if base_url:
        doc.para(_t("management_link", lang, url=_page(base_url, "uebersicht", lang)))
    doc.para(_t("footer_management", lang))
    return doc.mail(_t("management_subject", lang, date=day))


def _figure(value: float | None, unit: str, lang: str, signed: bool = False) -> str:
    if value is None:
        return "–"
    sign = "+" if signed and value > 0 else ""
    if unit == "pct":
        text = f"{value:.1f}"
        text = text.replace(".", ",") if lang == "de" else text
        if signed:  # a change of a percentage: percentage points
            return f"{sign}{text} Pp." if lang == "de" else f"{sign}{text} pp"
        return f"{text} %" if lang == "de" else f"{text}%"
    number = f"{int(round(value)):,}"
    return sign + (number.replace(",", ".") if lang == "de" else number)
