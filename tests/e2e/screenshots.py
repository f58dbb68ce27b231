"""Full-page screenshots of every page on fresh demo data: ``make screenshots`` -> docs/screenshots/.

Usage: python -m tests.e2e.screenshots [OUT_DIR] [--lang de|en] [--pages a,b]
Builds a small demo store and snapshot in a temporary data dir, starts the app on a free port,
and drives Debian's Chromium, so the pictures show what a user sees, not a mock.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dashboard.build import build_snapshot
from dashboard.demo import generate
from dashboard.history import KpiHistory
from dashboard.pages import DEFAULT, IDS, url_path
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, URL_PAGES, serve, wait_idle


def _sample_exports(data_dir: Path) -> None:
    """A few finished jobs, so the Exporte page shows what it is for."""
    import datetime as dt
    import os

    from dashboard import jobs

    os.environ["DASHBOARD_DATA_DIR"] = str(data_dir)
    store = jobs.JobStore(data_dir / "state" / "jobs.sqlite", data_dir / "exports")
    for kind, params in (("deletion_worklist", {"system": "helpdesk", "as_of": dt.date.today()}),
                         ("management_report", {}), ("subject_access", {"contact_id": "C00000001"})):
        jobs.execute(store, store.create(kind, params, "demo:dpo", "dpo").id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--lang", default="de", choices=("de", "en"))
    parser.add_argument("--pages", default=",".join(URL_PAGES))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        generate(data_dir / "demo", seed=42, scale="small")
        live = build_snapshot(data_dir=data_dir).path
        KpiHistory(data_dir / "state" / "kpi_history.sqlite").backfill(live, months=12)
        _sample_exports(data_dir)
        with serve(data_dir) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            locale = "en-GB" if args.lang == "en" else "de-DE"  # as a reader of that language browses
            page = browser.new_context(viewport={"width": 1440, "height": 1000}, locale=locale).new_page()
            for path in (url_path(p) if p in IDS else p for p in args.pages.split(",")):
                page.goto(f"{url}/{path}" + ("?lang=en" if args.lang == "en" else ""))  # language: a URL param
                wait_idle(page)
                # Streamlit scrolls inside its main block, so grow the window to the content first.
                height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
                page.set_viewport_size({"width": 1440, "height": max(1000, int(height) + 40)})
                wait_idle(page)
                page.wait_for_timeout(1500)  # let plotly finish drawing
                target = out / f"{path or DEFAULT}.png"
                page.screenshot(path=str(target), full_page=True)
                page.set_viewport_size({"width": 1440, "height": 1000})
                print(target)
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
