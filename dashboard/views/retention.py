"""Löschfristen: records kept longer than the privacy notice promises, and what is due soon (R3)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import ui
from dashboard.ui import t

LIST_LIMIT = 500
STATUSES = ("due", "approaching", "held")


def render() -> None:
    st.title(t("retention.title"))
    left, right = st.columns(2)
    with left:
        as_of = ui.as_of_input("retention_as_of")
    with right:
        windows = sorted({30, 60, 90, ui.policy().settings.approaching_days})
        window = st.radio(t("retention.window"), windows, horizontal=True, key="retention_window",
                          index=windows.index(ui.policy().settings.approaching_days))
    summary = ui.query("retention_summary", as_of=as_of, window_days=window)
    cols = st.columns(4)
    cols[0].metric(t("retention.due"), ui.fmt_int(summary["due"].sum()))
    cols[1].metric(t("retention.approaching"), ui.fmt_int(summary["approaching"].sum()))
    cols[2].metric(t("retention.held"), ui.fmt_int(summary["held"].sum()))
    cols[3].metric(t("retention.bytes_due"), ui.fmt_bytes(summary["bytes_due"].sum()))

    chart = summary.unpivot(index=["category"], on=list(STATUSES), variable_name="status", value_name="count")
    chart = ui.translate(chart, category="category", status="status")
    fig = px.bar(chart.to_pandas(), x="category", y="count", color="status", barmode="group",
                 title=t("retention.by_category"), labels={"category": "", "count": t("retention.list"),
                                                           "status": t("retention.status")})
    st.plotly_chart(fig, width="stretch")

    st.subheader(t("retention.list"))
    status = st.radio(t("retention.status"), STATUSES, horizontal=True, key="retention_status",
                      format_func=lambda s: ui.coded("status", s))
    records = ui.query("retention_due_list", as_of=as_of, window_days=window, status=status, limit=LIST_LIMIT)
    shown = ui.translate(records, category="category", system="system", record_type="record", hold_kind="hold")
    ui.show_table(shown, total=int(summary[status].sum()),
                  dates=("anchor_date", "retained_until", "hold_review_date"))
    ui.csv_download("retention_due_list", f"loeschfristen_{status}_{as_of.isoformat()}.csv", key="retention_csv",
                    as_of=as_of, window_days=window, status=status, limit=None)

    with st.expander(t("retention.policy")):
        policy = ui.policy()
        st.caption(f"{policy.source} · {t('app.policy_version')} {policy.version} · {policy.effective_date}")
        for rule in policy.retention.values():
            start = f" ({t('retention.from_year_end')})" if rule.from_end_of_year else ""
            st.markdown(f"**{ui.coded('category', rule.category)}**: {rule.records} — "
                        f"{rule.period} {ui.coded('unit', rule.unit)}{start}; {rule.legal_basis}")
        st.info(t("retention.billing_note"))


render()
