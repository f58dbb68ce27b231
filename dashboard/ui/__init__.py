"""Streamlit glue shared by the pages, in rooms named for what they hold:

- ``text``: labels and the UI language (``t``, ``coded``, ``md``);
- ``signin``: sign-in, the role, whether it sees personal data;
- ``boundary``: the error boundary every page and fragment runs in;
- ``live``: the live snapshot, cached named queries, the "as of" date;
- ``formats``, ``tables`` and ``charts``: numbers, dates, tables, charts and pickers in the UI's language;
- ``folded``: a collapsed section built only while open;
- ``jobwidgets``: export buttons, job status and audited downloads;
- ``sidebar``: the Datenstand, who is signed in, the DPO's refresh;
- ``keys``: Enter applies a typed date (a listener in the page).

Views use them as ``ui.<name>``; nothing here computes a figure (that is the queries' job).
"""

from __future__ import annotations

from dashboard.data import as_text
from dashboard.ui.boundary import error_boundary
from dashboard.ui.charts import FORMATS as CHART_FORMATS
from dashboard.ui.charts import chart, pick, plot, shared_figure, style
from dashboard.ui.folded import folded
from dashboard.ui.formats import (
    date_format,
    decimal,
    fmt_bytes,
    fmt_date,
    fmt_delta,
    fmt_hours,
    fmt_int,
    fmt_moment,
    fmt_pct,
    with_moments,
)
from dashboard.ui.jobwidgets import (
    ACTIVE,
    MIME,
    audit_check,
    audit_entries,
    audit_users,
    deadlines_calendar,
    export_button,
    file_format,
    instant_download,
    job_result,
    job_status,
    kpi_history,
    list_export,
    rerun,
    runner,
    visible_jobs,
)
from dashboard.ui.keys import bring_into_view
from dashboard.ui.live import (
    STALE_AFTER,
    as_of_input,
    as_of_range,
    live_snapshot,
    no_readable_snapshot,
    now,
    pin_snapshot,
    policy,
    query,
    query_page,
    snapshot_fallback,
    snapshot_outdated,
    today,
)
from dashboard.ui.notices import rows_set_aside
from dashboard.ui.sidebar import REFRESH_KEY, sidebar
from dashboard.ui.signin import sign_in
from dashboard.ui.tables import ART34_COLOURS, CLOCK_COLOURS, show_table, status_text, translate
from dashboard.ui.text import LANG_KEY, coded, lang, language_switch, md, t
from dashboard.ui.urlstate import bind as bind_to_url
from dashboard.ui.urlstate import cockpit_base_url, linked_row
from dashboard.ui.urlstate import selected as selected_in_url
from dashboard.ui.who import IDENTITY_KEY, ROLE_KEY, USER_KEY, role, sees_personal_data, user_name

__all__ = [
    "ART34_COLOURS",
    "CLOCK_COLOURS",
    "status_text",
    "linked_row",
    "CHART_FORMATS",
    "as_of_range",
    "as_text",
    "chart",
    "plot",
    "shared_figure",
    "style",
    "folded",
    "pick",
    "selected_in_url",
    "cockpit_base_url",
    "audit_check",
    "audit_entries",
    "audit_users",
    "rerun",
    "visible_jobs",
    "bind_to_url",
    "date_format",
    "decimal",
    "ACTIVE",
    "IDENTITY_KEY",
    "LANG_KEY",
    "MIME",
    "REFRESH_KEY",
    "ROLE_KEY",
    "STALE_AFTER",
    "USER_KEY",
    "as_of_input",
    "coded",
    "error_boundary",
    "deadlines_calendar",
    "export_button",
    "file_format",
    "instant_download",
    "fmt_bytes",
    "fmt_date",
    "fmt_delta",
    "fmt_hours",
    "fmt_int",
    "fmt_moment",
    "fmt_pct",
    "job_result",
    "job_status",
    "kpi_history",
    "lang",
    "language_switch",
    "list_export",
    "live_snapshot",
    "md",
    "no_readable_snapshot",
    "now",
    "pin_snapshot",
    "policy",
    "query",
    "query_page",
    "role",
    "runner",
    "sees_personal_data",
    "show_table",
    "sidebar",
    "sign_in",
    "snapshot_fallback",
    "snapshot_outdated",
    "t",
    "today",
    "translate",
    "user_name",
    "with_moments",
    "rows_set_aside",
    "bring_into_view",
]
