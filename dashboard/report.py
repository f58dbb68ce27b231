"""The management report: an XLSX with one sheet per area, figures as of the snapshot.

The figures come from ``kpis.headline`` and the detail pages' aggregate queries, so the report
says exactly what the dashboard says. Aggregates only: no names, ids or free text.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from dashboard import data, kpis
from dashboard.deadlines import BERLIN
from dashboard.i18n import catalogue, code_labels, label
from dashboard.policy import load_policy

SHEETS = ("overview", "requests", "retention", "consent", "incidents")


# The chart's filters left empty: every open, verified request (the page's view with no filter set).
ALL_OPEN_REQUESTS = dict(show_hidden=False, rights=[], statuses=[], assignees=[], channels=[], overdue_only=False,
                         due_within=None, received_from=None, received_to=None)


def _title(column: str, lang: str) -> str:
    for key in (f"report.{column}", f"col.{column}"):
        if key in catalogue():
            return label(key, lang)
    return column


def _named(frame: pl.DataFrame, lang: str, **groups: str) -> pl.DataFrame:
    """A table as a reader wants it: titles and labels in ``lang``, sizes in MB, figures rounded."""
    frame = frame.with_columns(pl.col(c).replace(code_labels(g, lang)) for c, g in groups.items())
    if "bytes_due" in frame.columns:
        frame = frame.with_columns((pl.col("bytes_due") / 1024**2).alias("mb_due")).drop("bytes_due")
    frame = frame.with_columns(pl.col(pl.Float64).round(1))
    return frame.rename({c: _title(c, lang) for c in frame.columns})


def report_frames(con: duckdb.DuckDBPyConnection, lang: str = "de",
                  previous: dict[str, float | None] | None = None) -> tuple[dict, dict[str, list[pl.DataFrame]]]:
    """The report's content: the snapshot's facts and, per sheet, its tables. The overview lists each
    headline figure with its traffic light, thresholds and change against ``previous`` (the figures of
    the build before, from the KPI history)."""
    policy = load_policy()
    settings = policy.settings
    info = data.run(con, "snapshot_info").row(0, named=True)
    now = info["built_at"].astimezone(dt.UTC).replace(second=0, microsecond=0)
    as_of = now.astimezone(BERLIN).date()
    figures = kpis.headline(functools.partial(data.run, con), as_of, now, settings)
    previous = previous or {}
    lights = {k: kpis.traffic_light(v, policy.thresholds.get(k)) for k, v in figures.items()}
    headline = pl.DataFrame({
        _title("area", lang): [label(f"nav.{kpis.AREAS[k]}", lang) for k in figures],
        _title("kpi", lang): [_title(k, lang) for k in figures],
        _title("value", lang): [None if v is None else float(v) for v in figures.values()],
        _title("light", lang): [label(f"overview.light_{lights[k] or 'none'}", lang) for k in figures],
        _title("thresholds", lang): [kpis.threshold_words(k, policy.thresholds.get(k), lang) for k in figures],
        _title("change", lang): [None if v is None or previous.get(k) is None else float(v) - previous[k]
                                 for k, v in figures.items()],
    }, schema_overrides={_title("value", lang): pl.Float64, _title("change", lang): pl.Float64})
    sheets = {
        "overview": [headline],
        "requests": [_named(data.run(con, "requests_by_right", as_of=as_of, due_soon_days=settings.due_soon_days,
                                     **ALL_OPEN_REQUESTS),
                            lang, right="right", clock="status")],
        "retention": [_named(data.run(con, "retention_summary", as_of=as_of, window_days=settings.approaching_days,
                                      categories=[], systems=[]), lang, category="category", system="system")],
        "consent": [_named(data.run(con, "consent_summary", as_of=as_of), lang, purpose="purpose")],
        "incidents": [
            _named(data.run(con, "incident_clock_counts", as_of=now, warning_hours=settings.breach_warning_hours),
                   lang, clock="status"),
            _named(data.run(con, "incident_kpis", as_of=now, warning_hours=settings.breach_warning_hours), lang),
        ],
    }
    facts = {"built_at": info["built_at"], "as_of": as_of, "policy_version": info["policy_version"],
             "figures": figures, "units": [kpis.UNITS[k] for k in figures]}
    return facts, sheets


# Excel number formats: counts whole, percentages with one place, changes with their sign.
FORMATS = {"count": "#,##0", "pct": '0.0" %"', "count_change": "+#,##0;-#,##0;0", "pct_change": "+0.0;-0.0;0"}


def write_xlsx(con: duckdb.DuckDBPyConnection, target: Path, progress: Callable[[int], None] = lambda _: None,
               lang: str = "de", previous: dict[str, float | None] | None = None) -> int:
    """Write the report to ``target``; returns the number of table rows written."""
    facts, sheets = report_frames(con, lang, previous)
    progress(40)
    rows = 0
    # Text stays text: xlsxwriter would otherwise turn a string starting with "=" into a formula.
    with xlsxwriter.Workbook(str(target), {"strings_to_formulas": False, "strings_to_urls": False}) as wb:
        bold = wb.add_format({"bold": True, "font_size": 14})
        for name in SHEETS:
            ws = wb.add_worksheet(label(f"report.sheet_{name}", lang)[:31])
            ws.write(0, 0, label(f"report.sheet_{name}", lang), bold)
            built = facts["built_at"].astimezone(BERLIN)
            ws.write(1, 0, f"{label('app.data_as_of', lang)}: {built:%d.%m.%Y %H:%M} {built:%z} · "
                           f"{label('app.policy_version', lang)}: {facts['policy_version']}")
            row = 3
            for caption, frame in zip(_captions(name, len(sheets[name]), lang), sheets[name], strict=True):
                if caption:  # what the table counts: the open ones of all time, or the last 12 months
                    ws.write_string(row - 1, 0, caption)
                frame.write_excel(workbook=wb, worksheet=ws.name, position=(row, 0), autofit=True,
                                  table_style="Table Style Light 9", float_precision=1,
                                  dtype_formats={pl.Date: "dd.mm.yyyy"}, include_header=True)
                if name == "overview":
                    _overview_numbers(wb, ws, frame, row, facts.get("units", []), lang)
                row += frame.height + 4
                rows += frame.height
            ws.set_column(0, 0, 34)
        progress(90)
    return rows


def _captions(sheet: str, tables: int, lang: str) -> list[str | None]:
    """A line above each table that says what it counts (the page's own words)."""
    if sheet == "incidents" and tables == 2:
        return [label("incidents.open_by_clock", lang), label("incidents.last_12_months", lang)]
    return [None] * tables


def _overview_numbers(wb, ws, frame: pl.DataFrame, top: int, units: list[str], lang: str) -> None:
    """Each figure and its change in its own number format: a count whole ("22", not "22,0"), a rate with
    one place and a percent sign."""
    formats = {k: wb.add_format({"num_format": f}) for k, f in FORMATS.items()}
    value_col, change_col = (frame.columns.index(_title(c, lang)) if _title(c, lang) in frame.columns else None
                             for c in ("value", "change"))
    for i, unit in enumerate(units[:frame.height]):
        kind = "pct" if unit == "pct" else "count"
        for col, suffix in ((value_col, ""), (change_col, "_change")):
            value = frame[i, col] if col is not None else None
            if value is not None:
                ws.write_number(top + 1 + i, col, value, formats[kind + suffix])
