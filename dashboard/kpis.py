"""The headline figures of every area, taken from the detail pages' own named queries.

The overview tiles, the management report and the KPI history all call ``headline``: a figure is
computed one way only, by the query its detail page shows. Aggregates only: no personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from dashboard.i18n import label, local_number
from dashboard.policy import Settings, Threshold

# (key, area, unit): the order of the overview and of the report.
KPIS = (
    ("requests_open", "requests", "count"),
    ("requests_overdue", "requests", "count"),
    ("requests_on_time_pct", "requests", "pct"),
    ("retention_due", "retention", "count"),
    ("retention_approaching", "retention", "count"),
    ("retention_erasure_open", "retention", "count"),
    ("consent_rate_newsletter", "consent", "pct"),
    ("consent_rate_extended_analytics", "consent", "pct"),
    ("incidents_open", "incidents", "count"),
    ("incidents_overdue", "incidents", "count"),
    ("incidents_on_time_pct", "incidents", "pct"),
)
UNITS = {key: unit for key, _, unit in KPIS}
AREAS = {key: area for key, area, _ in KPIS}


def headline(run: Callable[..., pl.DataFrame], as_of: dt.date, now: dt.datetime,
             settings: Settings) -> dict[str, float | None]:
    """Every headline figure for ``as_of`` (dates) and ``now`` (the 72-hour clocks).

    ``run(name, **params)`` runs a named query: ``functools.partial(data.run, con)`` in plain
    Python, the cached ``ui.query`` in the app.
    """
    req = run("requests_kpis", as_of=as_of, due_soon_days=settings.due_soon_days).row(0, named=True)
    ret = run("retention_summary", as_of=as_of, window_days=settings.approaching_days, categories=[], systems=[])
    erasures = run("erasure_findings", as_of=as_of, request_id=None)
    consent = {r["purpose"]: r["consent_rate_pct"] for r in run("consent_summary", as_of=as_of).iter_rows(named=True)}
    clocks = run("incident_clock_counts", as_of=now, warning_hours=settings.breach_warning_hours)
    still_open = dict(zip(clocks["clock"], clocks["still_open"], strict=True))
    incidents = run("incident_kpis", as_of=now, warning_hours=settings.breach_warning_hours).row(0, named=True)
    return {
        "requests_open": req["open"],
        "requests_overdue": req["overdue"],
        "requests_on_time_pct": req["on_time_pct_90d"],
        "retention_due": int(ret["due"].sum()),
        "retention_approaching": int(ret["approaching"].sum()),
        "retention_erasure_open": erasures["request_id"].n_unique(),
        "consent_rate_newsletter": consent.get("newsletter"),
        "consent_rate_extended_analytics": consent.get("extended_analytics"),
        "incidents_open": still_open.get("open", 0) + still_open.get("warning", 0),
        "incidents_overdue": still_open.get("overdue", 0),
        "incidents_on_time_pct": incidents["on_time_pct"],
    }


def threshold_words(key: str, threshold: Threshold | None, lang: str) -> str:
    """A figure's traffic-light thresholds in words, as the overview tile's help and the report say them;
    bounds written like the figure (whole counts, percentages with one place)."""
    if threshold is None:
        return label("overview.no_threshold", lang)

    def bound(value: float) -> str:
        return f"{local_number(value, 1, lang)} %" if UNITS[key] == "pct" else local_number(int(value), 0, lang)

    green, amber = bound(threshold.green), bound(threshold.amber)
    strict = "_strict" if green == amber else ""  # no "watch" band: not "watch up to 0"
    return label(f"overview.threshold_{threshold.better}{strict}", lang, green=green, amber=amber)


def traffic_light(value: float | None, threshold: Threshold | None) -> str | None:
    """green / amber / red for a figure against its policy threshold; None without one (or no value)."""
    if value is None or threshold is None:
        return None
    if threshold.better == "lower":
        return "green" if value <= threshold.green else "amber" if value <= threshold.amber else "red"
    return "green" if value >= threshold.green else "amber" if value >= threshold.amber else "red"
