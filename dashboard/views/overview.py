"""Übersicht: the headline figures of every area with traffic lights, changes and their history.

Every figure comes from ``kpis.headline``, which runs the detail pages' own queries; this page
computes nothing itself. Aggregates only, for every role.
"""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboard import history, kpis, pages, ui
from dashboard.ui import t

AREAS = ("requests", "retention", "consent", "incidents")
LIGHTS = {"green": ("green", ":material/check_circle:"), "amber": ("orange", ":material/warning:"),
          "red": ("red", ":material/error:")}
# A tile's click opens its page with the matching filter (widget keys of that page -> values).
# Where each tile leads, with the filter as the target page's URL parameters (the page reads them:
# the filtered view is a link).
TARGETS = {
    "requests_open": ("anfragen", {}),
    "requests_overdue": ("anfragen", {"overdue": "1"}),
    "requests_on_time_pct": ("anfragen", {"answered": "1"}),
    "retention_due": ("loeschfristen", {"status": ["due"]}),
    "retention_approaching": ("loeschfristen", {"status": ["approaching"]}),
    "retention_erasure_open": ("loeschfristen", {"status": ["due"]}),
    "consent_rate_newsletter": ("einwilligungen", {}),
    "consent_rate_extended_analytics": ("einwilligungen", {}),
    "incidents_open": ("datenpannen", {"clock": ["open", "warning"]}),
    "incidents_overdue": ("datenpannen", {"clock": ["overdue"]}),
    # exactly the breaches the figure counts: those whose clock ran out or stopped, aware in 12 months
    "incidents_on_time_pct": ("datenpannen", {"clock": ["notified_on_time", "notified_late", "overdue"],
                                              "window": "1"}),
}


def _value(key: str, value) -> str:
    return ui.fmt_pct(value) if kpis.UNITS[key] == "pct" else ui.fmt_int(value)


def _tile(key: str, value, previous, threshold) -> None:
    with st.container(border=True):
        lower_is_better = threshold is not None and threshold.better == "lower"
        st.metric(t(f"report.{key}"), _value(key, value),
                  ui.fmt_delta(value, previous, points=kpis.UNITS[key] == "pct"),
                  delta_color="inverse" if lower_is_better else "normal", help=_help(key, previous, threshold))
        light = kpis.traffic_light(value, threshold)
        if light:
            colour, icon = LIGHTS[light]
            st.badge(t(f"overview.light_{light}"), color=colour, icon=icon)
        else:
            st.badge(t("overview.light_none"), color="gray", icon=":material/remove:")
        page, filters = TARGETS[key]
        if st.button(t("overview.details"), key=f"tile_{key}", icon=":material/arrow_forward:", type="tertiary"):
            st.switch_page(pages.BY_ID[page].script, query_params=filters)


def _help(key: str, previous, threshold) -> str:
    """What the tile counts, its traffic-light thresholds, and what its arrow compares with."""
    light = kpis.threshold_words(key, threshold, ui.lang())
    change = t("overview.delta_help") if previous is not None else t("overview.no_previous")
    return "\n\n".join((t(f"overview.help_{key}"), light, change))


def _history(figures: dict) -> None:
    st.subheader(t("overview.history"))
    try:
        recorded = ui.kpi_history().stamp()
    except history.HistoryUnavailable as exc:  # the tiles above stand on their own
        st.warning(t(exc.label, reason=ui.md(exc)), icon=":material/history:")
        return
    if recorded[0] == 0:
        st.caption(t("overview.no_history"))
        return
    chosen = ui.pick(st, t("overview.history_kpis"), list(figures), key="overview_history_kpis",
                     default=["requests_overdue", "retention_due", "incidents_overdue"],
                     format_func=lambda k: t(f"report.{k}"),
                     on_change=ui.bind_to_url("overview_history_kpis", "kpi", list(figures), many=True))
    ui.plot(ui.shared_figure(_history_figure, recorded=recorded, chosen=tuple(chosen), names=tuple(figures)))
    st.caption(t("overview.kinds_help"))


def _history_figure(recorded: tuple, chosen: tuple, names: tuple):
    """The chosen figures over the recorded history (``recorded``: its stamp, so that the chart is made
    anew when a figure is recorded): one small chart per figure, each with its own scale (a backlog of
    thousands next to a count of 1)."""
    series = ui.kpi_history().series()
    shown = series.filter(pl.col("kpi").is_in(chosen)).with_columns(
        pl.col("kpi").replace(kpis.UNITS).alias("unit"),
        pl.col("kpi").replace({k: t(f"report.{k}") for k in names}),
        pl.col("kind").replace({k: t(f"overview.kind_{k}") for k in history.KINDS}))
    fig = px.line(shown.to_pandas(), x="as_of", y="value", color="kind", markers=True, facet_col="kpi",
                  custom_data=["unit"],
                  facet_col_wrap=3, facet_col_spacing=0.06, title=t("overview.history_chart"),
                  labels={"as_of": t("overview.as_of"), "value": t("report.value"), "kind": t("overview.kind")})
    fig.update_yaxes(matches=None, showticklabels=True, rangemode="tozero")
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return ui.style(fig, counts=lambda trace: trace.customdata[0][0] == "count")  # a count facet never shows 1,5


def render() -> None:
    st.title(t("app.title"))
    ui.rows_set_aside("uebersicht")  # rows the snapshot set aside are missing here: say so
    st.caption(t("overview.intro"))
    policy = ui.policy()
    figures = kpis.headline(ui.query, ui.today(), ui.now(), policy.settings)
    try:
        previous = ui.kpi_history().previous(ui.live_snapshot().name)
    except history.HistoryUnavailable:  # no change arrows then; the history section says why
        previous = {}
    for area in AREAS:
        st.subheader(t(f"nav.{area}"))
        keys = [k for k in figures if kpis.AREAS[k] == area]
        for col, key in zip(st.columns(len(keys)), keys, strict=True):
            with col:
                _tile(key, figures[key], previous.get(key), policy.thresholds.get(key))
    ui.export_button("management_report", {"lang": ui.lang()}, key="overview_report")
    _history(figures)


render()
