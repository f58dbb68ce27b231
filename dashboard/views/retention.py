"""Löschfristen: records kept longer than the privacy notice promises, and what is due soon (R3)."""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import polars as pl
import streamlit as st

from dashboard import data, deadlines, helpdesk_rules, history, ui
from dashboard.schema import ANCHORS, BY_NAME, SOURCE_FINDINGS
from dashboard.ui import t

LIST_LIMIT = 500
STATUSES = tuple(s for s in deadlines.RETENTION_STATUSES if s != "retained")  # the list shows records to act on
CATEGORIES = tuple(ui.policy().retention)
SYSTEMS = tuple(dict.fromkeys(BY_NAME[table].system for table, _ in ANCHORS.values()))


def _filters() -> dict:
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    with c1:
        as_of = ui.as_of_input("retention_as_of")
    windows = sorted({30, 60, 90, ui.policy().settings.approaching_days})
    window = c2.radio(t("retention.window"), windows, horizontal=True, key="retention_window",
                      index=windows.index(ui.policy().settings.approaching_days), bind="query-params")
    categories = ui.pick(c3, t("col.category"), CATEGORIES, key="retention_categories",
                         format_func=lambda v: ui.coded("category", v),
                         on_change=ui.bind_to_url("retention_categories", "category", CATEGORIES, many=True))
    systems = ui.pick(c4, t("col.system"), SYSTEMS, key="retention_systems",
                      format_func=lambda v: ui.coded("system", v),
                      on_change=ui.bind_to_url("retention_systems", "system", SYSTEMS, many=True))
    return dict(as_of=as_of, window_days=window, categories=categories, systems=systems)


def _figures(summary: pl.DataFrame, subjects: data.Page, erasures: pl.DataFrame) -> None:
    oldest = summary["oldest_due_since"].min()
    cols = st.columns(6)
    cols[0].metric(t("retention.due"), ui.fmt_int(summary["due"].sum()),
                   help=t("retention.oldest", date=ui.fmt_date(oldest)) if oldest else None)
    cols[1].metric(t("retention.approaching"), ui.fmt_int(summary["approaching"].sum()))
    cols[2].metric(t("retention.held"), ui.fmt_int(summary["held"].sum()))
    cols[3].metric(t("retention.bytes_due"), ui.fmt_bytes(summary["bytes_due"].sum()))
    cols[4].metric(t("retention.subjects_deletable"), ui.fmt_int(subjects.total),
                   help=t("retention.subjects_help"))
    cols[5].metric(t("retention.erasure_open"), ui.fmt_int(erasures["request_id"].n_unique()),
                   help=t("retention.erasure_open_help", days=ui.policy().settings.erasure_grace_days))
    shown = ui.translate(summary, category="category", system="system").with_columns(
        ui.as_text(summary["bytes_due"], ui.fmt_bytes))
    ui.show_table(shown, titles={"due": "retention.due", "approaching": "retention.approaching",
                                 "held": "retention.held", "bytes_due": "retention.bytes_due"})


def _forecast(filters: dict) -> None:
    """What becomes deletable in the next 12 months, of the categories and systems the page shows."""
    ui.plot(ui.shared_figure(_forecast_figure, as_of=filters["as_of"], categories=filters["categories"],
                             systems=filters["systems"]))


def _forecast_figure(as_of: dt.date, categories: list, systems: list):
    forecast = ui.translate(ui.query("retention_forecast", as_of=as_of, categories=categories, systems=systems),
                            category="category")
    fig = px.bar(forecast.to_pandas(), x="month", y="records", color="category",
                 title=t("retention.forecast"),
                 labels={"month": t("requests_page.month"), "records": t("retention.records_unit"),
                         "category": t("col.category")})
    fig.update_xaxes(dtick="M1")
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "title": None})
    return ui.style(fig, x="month")


def _backlog_trend() -> None:
    """The deletion backlog over earlier snapshots (from the KPI history; it outlives pruning)."""
    try:
        recorded = ui.kpi_history().stamp()
    except history.HistoryUnavailable as exc:
        st.warning(t(exc.label, reason=ui.md(exc)), icon=":material/history:")
        return
    if recorded[0] == 0:
        st.caption(t("overview.no_history"))
        return
    fig = ui.shared_figure(_backlog_figure, recorded=recorded)
    if fig is None:
        st.caption(t("overview.no_history"))
        return
    ui.plot(fig)


def _backlog_figure(recorded: tuple):
    """``recorded``: the history's stamp, so that the figure is made anew when a figure is recorded;
    None when the history holds no backlog figure."""
    series = ui.kpi_history().series()
    backlog = series.filter(pl.col("kpi").is_in(["retention_due", "retention_approaching"]))
    if backlog.is_empty():
        return None
    shown = backlog.with_columns(pl.col("kpi").replace({k: t(f"report.{k}") for k in ("retention_due",
                                                                                      "retention_approaching")}),
                                 pl.col("kind").replace({k: t(f"overview.kind_{k}") for k in history.KINDS}))
    fig = px.line(shown.to_pandas(), x="as_of", y="value", color="kpi", line_dash="kind", markers=True,
                  title=t("retention.backlog_trend"),
                  labels={"as_of": t("overview.as_of"), "value": t("retention.records_unit"), "kpi": "",
                          "kind": t("overview.kind")})
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "title": None})
    return ui.style(fig)


def _lists(filters: dict) -> None:
    st.subheader(t("retention.list"))
    c1, c2 = st.columns([2, 1])
    on_change = ui.bind_to_url("retention_statuses", "status", STATUSES, many=True)
    statuses = ui.pick(c1, t("retention.status"), STATUSES, default=["due"], key="retention_statuses",
                       format_func=lambda s: ui.coded("status", s), on_change=on_change)
    between = c2.date_input(t("retention.until_between"), value=(), key="retention_until",
                            format=ui.date_format(),
                            on_change=ui.bind_to_url("retention_until", "until", dates=True, many=True))
    until_from, until_to = (tuple(between) + (None, None))[:2] if between else (None, None)
    params = dict(filters, statuses=statuses, until_from=until_from, until_to=until_to)
    page = ui.query_page("retention_due_list", LIST_LIMIT, **params)
    ui.list_export("retention_due_list", f"loeschfristen_{filters['as_of'].isoformat()}.csv",
                   key="retention_csv", total=page.total, **params)
    ui.show_table(page.frame, total=page.total, list_name="retention_due_list")


def _worklists(as_of) -> None:
    st.subheader(t("retention.worklists"))
    st.caption(t("retention.worklists_help"))
    chosen = ui.file_format(st, "worklists")  # German like every list; machine-readable on request
    for col, system in zip(st.columns(len(SYSTEMS)), SYSTEMS, strict=True):
        with col:
            ui.export_button("deletion_worklist", {"system": system, "as_of": as_of, **chosen},
                             key=f"worklist_{system}", label=t("retention.worklist", system=ui.coded("system", system)))


def _erasures(erasures: pl.DataFrame) -> None:
    """R3.6: erasure requests completed but not carried out, above every other list."""
    if erasures.is_empty():
        return
    title = t("retention.erasure_list", requests=ui.fmt_int(erasures["request_id"].n_unique()),
              items=ui.fmt_int(erasures.height))
    with st.expander(title, expanded=True, icon=":material/error:"):
        st.caption(t("retention.erasure_open_help", days=ui.policy().settings.erasure_grace_days))
        ui.show_table(ui.translate(erasures.with_columns(pl.col("record_id").fill_null("–")), system="system",
                                   record_type="record", category="category"))


def _subjects(subjects: data.Page, as_of) -> None:
    def draw() -> None:
        st.caption(t("retention.subjects_help"))
        ui.list_export("deletable_subjects", f"stammdaten_loeschbar_{as_of.isoformat()}.csv",
                       key="subjects_csv", total=subjects.total, as_of=as_of)
        ui.show_table(subjects.frame, total=subjects.total, list_name="deletable_subjects")

    ui.folded(t("retention.subjects_deletable"), "retention_subjects_open", draw)


def _policy() -> None:
    def draw() -> None:
        policy = ui.policy()
        st.caption(f"{policy.source} · {t('app.policy_version')} {policy.version} · {policy.effective_date}")
        for rule in policy.retention.values():
            start = f" ({t('retention.from_year_end')})" if rule.from_end_of_year else ""
            st.markdown(f"**{ui.coded('category', rule.category)}**: {rule.records} — "
                        f"{rule.period} {ui.coded('unit', rule.unit)}{start}; {rule.legal_basis}")
        st.info(t("retention.billing_note"))

    ui.folded(t("retention.policy"), "retention_policy_open", draw)


def _helpdesk_rules() -> None:
    """The helpdesk's own deletion rule against the policy (dashboard.helpdesk_rules), as the
    snapshot recorded it: a rule that deletes on another schedule, none at all, or one nobody can read."""
    findings = ui.query("source_findings", codes=list(SOURCE_FINDINGS["retention"]))
    differing = set(findings.filter(pl.col("finding") == "deletion_rule_differs")["subject"])
    wanted = ui.policy().retention["support_communication"]
    for row in findings.iter_rows(named=True):
        code, source = row["finding"], ui.md(row["source"])
        if code in ("deletion_rule", "deletion_rule_differs"):
            if code == "deletion_rule" and row["subject"] in differing:
                continue  # said by its "differs" line
            rule = helpdesk_rules.DeletionRule.from_json(row["subject"])
            text = t(f"retention.source_{code}", source=source, name=ui.md(rule.name),
                     period=f"{rule.period} {ui.coded('zammad_range', rule.unit)}", attribute=ui.md(rule.attribute),
                     last_run=ui.fmt_moment(dt.datetime.fromisoformat(rule.last_run)) if rule.last_run else "–",
                     processed=ui.fmt_int(rule.processed), policy=f"{wanted.period} {ui.coded('unit', wanted.unit)}",
                     state=t(f"retention.rule_{'active' if rule.active else 'inactive'}"))
            (st.warning if code == "deletion_rule_differs" else st.info)(text, icon=":material/auto_delete:")
        else:
            st.warning(t(f"retention.source_{code}", source=source, subject=ui.md(row["subject"])),
                       icon=":material/warning:")


def _unfinished_deletions(as_of: dt.date) -> None:
    """Deletion tasks a system did not finish (failed, or in process for more than a day),
    as things stood at the end of ``as_of`` (today: now)."""
    end_of_day = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), deadlines.BERLIN)
    moment = ui.now() if as_of >= ui.today() else end_of_day
    unfinished = ui.query("deletion_task_findings", now=moment)
    if unfinished.is_empty():
        return
    with st.expander(t("retention.deletions_unfinished", count=ui.fmt_int(unfinished.height)), expanded=True,
                     icon=":material/error:"):
        st.caption(t("retention.deletions_unfinished_help"))
        ui.show_table(ui.with_moments(unfinished, ("created_at",)), list_name="erasure_proofs")


def render() -> None:
    st.title(t("retention.title"))
    ui.rows_set_aside("loeschfristen")  # rows the snapshot set aside are missing here: say so
    _helpdesk_rules()
    filters = _filters()
    summary = ui.query("retention_summary", **filters)
    subjects = ui.query_page("deletable_subjects", LIST_LIMIT, as_of=filters["as_of"])
    erasures = ui.query("erasure_findings", as_of=filters["as_of"], request_id=None)
    _figures(summary, subjects, erasures)
    _erasures(erasures)
    _unfinished_deletions(filters["as_of"])
    left, right = st.columns(2)
    with left:
        _forecast(filters)
    with right:
        _backlog_trend()
    _lists(filters)
    _worklists(filters["as_of"])
    _subjects(subjects, filters["as_of"])
    _policy()


render()
