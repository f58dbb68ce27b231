"""Einwilligungen: consent rates per purpose, their trend, and consents whose proof is lacking (R4)."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboard import deadlines, ui
from dashboard.schema import BY_NAME, SOURCE_FINDINGS
from dashboard.ui import t

LIST_LIMIT = 500
FINDINGS = deadlines.CONSENT_FINDINGS
CHANNELS = BY_NAME["consent_events"].column("channel").enum


def _figures(as_of) -> None:
    now = {r["purpose"]: r for r in ui.query("consent_summary", as_of=as_of).iter_rows(named=True)}
    month_ago = deadlines.add_months(as_of, -1)
    before = {r["purpose"]: r for r in ui.query("consent_summary", as_of=month_ago).iter_rows(named=True)}
    st.caption(t("consent.delta_help", date=ui.fmt_date(month_ago)))
    for purpose, row in now.items():
        prev = before.get(purpose, {})
        st.subheader(ui.coded("purpose", purpose))
        cols = st.columns(6)
        cols[0].metric(t("consent.rate"), ui.fmt_pct(row["consent_rate_pct"]),
                       ui.fmt_delta(row["consent_rate_pct"], prev.get("consent_rate_pct"), points=True),
                       help=t("consent.rate_help"))
        cols[1].metric(t("consent.active"), ui.fmt_int(row["active"]), ui.fmt_delta(row["active"], prev.get("active")))
        cols[2].metric(t("consent.pending"), ui.fmt_int(row["pending"]),
                       ui.fmt_delta(row["pending"], prev.get("pending")), delta_color="off")
        cols[3].metric(t("consent.doi_rate"), ui.fmt_pct(row["doi_rate_pct"]),
                       ui.fmt_delta(row["doi_rate_pct"], prev.get("doi_rate_pct"), points=True),
                       help=t("consent.doi_help"))
        cols[4].metric(t("consent.withdrawals_30d"), ui.fmt_int(row["withdrawals_30d"]),
                       ui.fmt_delta(row["withdrawals_30d"], prev.get("withdrawals_30d")), delta_color="inverse")
        cols[5].metric(t("consent.withdrawal_rate"), ui.fmt_pct(row["withdrawal_rate_pct"], digits=2),
                       ui.fmt_delta(row["withdrawal_rate_pct"], prev.get("withdrawal_rate_pct"), points=True),
                       delta_color="inverse", help=t("consent.withdrawal_rate_help"))


def _trend(as_of) -> None:
    st.subheader(t("consent.trend"))
    channels = ui.pick(st, t("consent.channels"), CHANNELS, key="consent_channels",
                       format_func=lambda v: ui.coded("consent_channel", v),
                       on_change=ui.bind_to_url("consent_channels", "channel", CHANNELS, many=True))
    left, right = st.columns(2)
    ui.plot(ui.shared_figure(_rates_figure, as_of=as_of, channels=channels), left)
    ui.plot(ui.shared_figure(_flows_figure, as_of=as_of, channels=channels), right)


def _monthly(as_of, channels) -> pl.DataFrame:
    return ui.translate(ui.query("consent_monthly", as_of=as_of, channels=channels), purpose="purpose")


def _axis() -> dict:
    return {"month": t("requests_page.month"), "purpose": t("consent.purpose"), "value": "%",
            "series": t("requests_page.series"), "count": t("requests_page.count")}


def _rates_figure(as_of, channels):
    rates = _monthly(as_of, channels).unpivot(index=["month", "purpose"], on=["consent_rate_pct", "doi_rate_pct"],
                                              variable_name="series", value_name="value").with_columns(
        pl.col("series").replace({"consent_rate_pct": t("consent.rate"), "doi_rate_pct": t("consent.doi_rate")}))
    fig = px.line(rates.to_pandas(), x="month", y="value", color="purpose", line_dash="series", markers=True,
                  title=t("consent.trend_rates"), labels=_axis())
    fig.update_yaxes(ticksuffix=" %", rangemode="tozero")
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "title": None})
    return ui.style(fig, x="month", counts=False, partial_to=as_of)


def _flows_figure(as_of, channels):
    flows = _monthly(as_of, channels).unpivot(index=["month", "purpose"], on=["grants", "withdrawals"],
                                              variable_name="series", value_name="count").with_columns(
        pl.col("series").replace({"grants": t("consent.grants"), "withdrawals": t("consent.withdrawals")}))
    fig = px.bar(flows.to_pandas(), x="month", y="count", color="series", facet_row="purpose", barmode="group",
                 title=t("consent.trend_flows"), labels=_axis(), height=480)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    return ui.style(fig, x="month", partial_to=as_of)


def _findings(as_of) -> None:
    st.subheader(t("consent.findings"))
    settings = ui.policy().settings
    params = dict(as_of=as_of, current_version=settings.current_notice_version,
                  pending_days=settings.pending_optin_max_days)
    counts = ui.query("consent_finding_counts", **params)
    sums = dict(counts.group_by("finding").agg(pl.col("consents").sum()).iter_rows())  # one pass, not one a finding
    totals = {f: int(sums.get(f) or 0) for f in (*FINDINGS, "any")}
    st.caption(t("consent.findings_any", count=ui.fmt_int(totals["any"])))
    cols = st.columns(len(FINDINGS))
    for col, finding in zip(cols, FINDINGS, strict=True):
        col.metric(t(f"consent.finding_{finding}", days=settings.pending_optin_max_days,
                     version=settings.current_notice_version), ui.fmt_int(totals[finding]))
    finding = st.segmented_control(
        t("consent.finding_open"), FINDINGS, key="consent_finding", default="no_notice_version",
        on_change=ui.bind_to_url("consent_finding", "finding", FINDINGS),
        format_func=lambda f: f"{t(f'consent.finding_{f}', days=settings.pending_optin_max_days, version=settings.current_notice_version)} ({ui.fmt_int(totals[f])})")  # noqa: E501
    if finding is None:
        return
    page = ui.query_page("consent_findings", LIST_LIMIT, **params, finding=finding, purposes=[])
    ui.list_export("consent_findings", f"einwilligungen_{finding}_{as_of.isoformat()}.csv", key="consent_csv",
                   total=page.total, **params, finding=finding, purposes=[])
    moments = ("first_asked_at", "requested_at", "confirmed_at", "given_at")
    ui.show_table(ui.with_moments(page.frame, moments), total=page.total, list_name="consent_findings")


def render() -> None:
    st.title(t("consent.title"))
    ui.rows_set_aside("einwilligungen")  # rows the snapshot set aside are missing here: say so
    for row in ui.query("source_findings", codes=list(SOURCE_FINDINGS["consent"])).iter_rows(named=True):
        st.warning(t(f"consent.source_{row['finding']}", source=ui.md(row["source"]), subject=ui.md(row["subject"])),
                   icon=":material/warning:")
    as_of = ui.as_of_input("consent_as_of")
    _figures(as_of)
    _trend(as_of)
    _findings(as_of)


render()
