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


def report_frames(con: duckdb.DuckDBPyConnection, lang: str = "de") -> tuple[dict, dict[str, list[pl.DataFrame]]]:
    """The report's content: the snapshot's facts and, per sheet, its tables."""
    settings = load_policy().settings
    info = data.run(con, "snapshot_info").row(0, named=True)
    now = info["built_at"].astimezone(dt.UTC).replace(second=0, microsecond=0)
    as_of = now.astimezone(BERLIN).date()
    figures = kpis.headline(functools.partial(data.run, con), as_of, now, settings)
    headline = pl.DataFrame({
        _title("area", lang): [label(f"nav.{kpis.AREAS[k]}", lang) for k in figures],
        _title("kpi", lang): [_title(k, lang) for k in figures],
        _title("value", lang): [None if v is None else round(float(v), 1) for v in figures.values()],
    })
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
             "figures": figures}
    return facts, sheets


def write_xlsx(con: duckdb.DuckDBPyConnection, target: Path, progress: Callable[[int], None] = lambda _: None,
               lang: str = "de") -> int:
    """Write the report to ``target``; returns the number of table rows written."""
    facts, sheets = report_frames(con, lang)
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
            for frame in sheets[name]:
                frame.write_excel(workbook=wb, worksheet=ws.name, position=(row, 0), autofit=True,
                                  table_style="Table Style Light 9", float_precision=1,
                                  dtype_formats={pl.Date: "dd.mm.yyyy"}, include_header=True)
                row += frame.height + 3
                rows += frame.height
            ws.set_column(0, 0, 34)
        progress(90)
    return rows
