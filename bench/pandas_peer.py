"""The usual alternative, for comparison in ``make bench``: a pandas-in-memory dashboard.

Usage: python -m bench.pandas_peer DEMO_DIR AS_OF

It loads the demo stores into DataFrames (as a Streamlit app with ``st.cache_data`` around
``pd.read_*`` would) and computes, for one date, what the Löschfristen, Einwilligungen and
Betroffenenanfragen pages lead with: records past retention per category, consent rates per purpose,
open and overdue requests. It is the peer's *simplest honest* version (no holds, no holiday roll, no
erasure findings), so its figures are a lower bound of the work; the dashboard does more for less.
Prints one JSON line: seconds per step and the process's peak memory.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import pandas as pd

# Retention as in data/policy.toml: (file, anchor column, period, unit, from the end of the year)
RETENTION = {"support_communication": ("helpdesk/tickets.csv", "closed_at", 6, "months", False),
             "contract": ("billing/contracts.parquet", "end_date", 2, "years", False),
             "billing": ("billing/invoices.parquet", "invoice_date", 10, "years", True)}


def load(demo: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for category, (file, *_rest) in RETENTION.items():
        path = demo / file
        frames[category] = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    frames["attachments"] = pd.read_csv(demo / "helpdesk" / "attachments.csv")
    frames["contacts"] = pd.read_csv(demo / "helpdesk" / "contacts.csv")
    frames["consent"] = pd.read_json(demo / "newsletter" / "consent_events.jsonl", lines=True)
    frames["requests"] = pd.read_json(demo / "privacy_register" / "requests.jsonl", lines=True)
    return frames


def retention(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, int]:
    due = {}
    for category, (_file, column, period, unit, year_end) in RETENTION.items():
        anchor = pd.to_datetime(frames[category][column], utc=True, errors="coerce").dt.tz_localize(None)
        if year_end:
            anchor = anchor.dt.to_period("Y").dt.end_time.dt.normalize()
        offset = pd.DateOffset(months=period) if unit == "months" else pd.DateOffset(years=period)
        due[category] = int(((anchor + offset) < as_of).sum())
    return due


def consent(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, float]:
    events = frames["consent"]
    seen = events[pd.to_datetime(events["occurred_at"], utc=True).dt.tz_localize(None) <= as_of]
    last = seen.sort_values("occurred_at").groupby(["contact_id", "purpose"]).tail(1)
    active = last["action"].isin(["granted", "confirmed"])
    return {purpose: round(100 * float(active[last["purpose"] == purpose].mean()), 1)
            for purpose in sorted(last["purpose"].unique())}


def requests(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> dict[str, int]:
    r = frames["requests"]
    received = pd.to_datetime(r["received_at"], utc=True).dt.tz_localize(None)
    closed = pd.to_datetime(r["closed_at"], utc=True).dt.tz_localize(None)
    open_ = (received <= as_of) & (closed.isna() | (closed > as_of))
    due = received.dt.normalize() + pd.DateOffset(months=1)
    return {"open": int(open_.sum()), "overdue": int((open_ & (due < as_of)).sum())}


def measure(demo_dir: str, as_of_text: str) -> dict:
    """Seconds to load the stores and to answer each page's question for a new date; peak memory."""
    demo, as_of = Path(demo_dir), pd.Timestamp(as_of_text)
    timings = {}
    started = time.perf_counter()
    frames = load(demo)
    timings["load_s"] = time.perf_counter() - started
    for name, step in (("retention", retention), ("consent", consent), ("requests", requests)):
        started = time.perf_counter()
        step(frames, as_of)
        timings[f"{name}_s"] = time.perf_counter() - started
    timings["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


if __name__ == "__main__":
    print(json.dumps(measure(*sys.argv[1:3])))
