"""Serve the app: ``python -m dashboard serve [Streamlit options]``, what ``make run`` and the systemd
unit start.

``streamlit run`` runs no app code before the first browser session, so the first user after every
start paid for the pages' imports (pandas, Polars, Plotly: about 1.5 s here) and their cold queries:
2.4 s to the first figure against 0.6-1.0 s for the next user (small demo, the browser's cache warm).
This launcher imports what the pages import, starts the cache warm-up (ui/warmup.py) and waits for its
first pass, so that the live snapshot's headline figures are computed before Streamlit listens (its
health check then means ready and warm), and runs Streamlit in this process. The caches the warm-up fills are
``st.cache_resource``, one per process, there before Streamlit's runtime is.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
WARM_WAIT_SECONDS = 60


def main(streamlit_args: Sequence[str]) -> int:
    _import_pages_modules()
    # What the imports made lives as long as the process: moved out of the collector's sight, a full
    # collection during a page's run walks only what came after (gen-2 pauses of 33-110 ms inside page
    # loads before, with 90-180 thousand objects tracked; 12-07).
    gc.collect()
    gc.freeze()
    _warm_before_listening()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *streamlit_args]
    return cli.main()


def _import_pages_modules() -> None:
    # Before the runtime exists every st.cache_data decorator checks its parameters against a stand-in
    # storage and logs "No runtime found" for it; the caches themselves are made later, in the runtime.
    import streamlit  # noqa: F401 - sets up its loggers' levels first

    checks = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = checks.level
    checks.setLevel(logging.ERROR)
    try:
        import plotly.express  # noqa: F401 - the pages' heaviest imports
        import plotly.graph_objects  # noqa: F401

        from dashboard import history, kpis  # noqa: F401
        from dashboard.ui import charts  # noqa: F401
    finally:
        checks.setLevel(level)
    _load_lazy_parts()


def _load_lazy_parts() -> None:
    """Plotly imports each trace, layout and axis type, and Streamlit its emoji and icon tables, at their
    first use: one small figure made and written as the pages make and Streamlit writes theirs loads them
    here (about 0.3 s of imports inside the first page views of a fresh server otherwise, 12-07)."""
    import plotly.express as px
    import polars as pl
    import streamlit.emojis  # noqa: F401
    import streamlit.material_icon_names  # noqa: F401

    frame = pl.DataFrame({"month": ["2026-01"], "count": [1], "series": ["a"]}).to_pandas()
    bars = px.bar(frame, x="month", y="count", color="series", facet_row="series", barmode="group")
    bars.add_vline(x=0, line_dash="dash")
    bars.to_json()
    px.line(frame, x="month", y="count", color="series", markers=True).to_json()


def _warm_before_listening() -> None:
    """Start the cache warm-up (ui/warmup.py: it then warms each newer snapshot as soon as it is published)
    and wait for its first pass, so that the live snapshot's headline figures are computed before
    Streamlit listens and its health check means warm: 20 sessions arriving together at a freshly started
    server otherwise computed them alongside the warm-up. Their caches are ``st.cache_resource``, which
    exist before the runtime does. Waits at most WARM_WAIT_SECONDS; a failure only leaves the pages to
    compute."""
    from dashboard import paths
    from dashboard.ui import warmup

    warmup.start(str(paths.snapshots_dir())).first_pass.wait(WARM_WAIT_SECONDS)
