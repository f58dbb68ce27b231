"""Chart axes a reader can trust: whole numbers where a figure counts, one tick per day at most."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px

from dashboard.ui.charts import chart


class _Page:
    """Stands in for ``st``: keeps the figure it was asked to draw."""

    def plotly_chart(self, fig, **_kwargs):
        self.fig = fig


def _draw(fig, **kwargs):
    page = _Page()
    chart(fig, page, **kwargs)
    return page.fig


def _history() -> pd.DataFrame:
    days = [dt.date(2026, 11, 27), dt.date(2026, 11, 28)]
    return pd.DataFrame({"as_of": days * 3, "value": [1, 2, 85.7, 85.9, 4000, 4251],
                         "kpi": ["overdue"] * 2 + ["on_time_pct"] * 2 + ["backlog"] * 2,
                         "unit": ["count"] * 2 + ["pct"] * 2 + ["count"] * 2})


def test_count_facets_get_whole_number_ticks_and_percentages_keep_their_decimals():
    fig = px.line(_history(), x="as_of", y="value", facet_col="kpi", custom_data=["unit"])
    fig.update_yaxes(matches=None)
    fig = _draw(fig, counts=lambda trace: trace.customdata[0][0] == "count")
    axis = {f"{trace.customdata[0][0]}{max(trace.y):g}": "yaxis" + trace.yaxis[1:] for trace in fig.data}
    small, pct, large = fig.layout[axis["count2"]], fig.layout[axis["pct85.9"]], fig.layout[axis["count4251"]]
    assert (small.tickformat, small.dtick) == (",d", 1)  # 0, 1, 2 - never 0.5 or 1.5
    assert (large.tickformat, large.dtick) == (",d", None)
    assert (pct.tickformat, pct.dtick) == (None, None)


def test_dates_a_few_days_apart_get_one_tick_per_day_and_categories_are_left_alone():
    fig = _draw(px.line(_history(), x="as_of", y="value", color="kpi"), counts=False)
    assert fig.layout.xaxis.dtick == 86_400_000  # not every 12 hours, each labelled with the same day
    months = pd.DataFrame({"month": pd.date_range("2025-01-01", periods=24, freq="MS"), "n": range(24)})
    assert _draw(px.bar(months, x="month", y="n"), x="month").layout.xaxis.dtick is None
    rights = pd.DataFrame({"right": ["Auskunft", "Löschung"], "n": [3, 1]})
    assert _draw(px.bar(rights, x="right", y="n")).layout.xaxis.dtick is None
