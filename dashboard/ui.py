"""Streamlit glue shared by the pages: labels, the live snapshot, cached queries, formatting.

Connections are cached per *versioned* snapshot file and query results per (file, query,
parameters), so publishing a new snapshot switches every session on its next rerun, with no
restart and no stale results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import access, data, errors, history, jobs, paths, refresh
from dashboard.deadlines import BERLIN
from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, code_labels, label
from dashboard.policy import Policy, load_policy
from dashboard.snapshot import LAYOUT, current_snapshot, snapshot_layout, usable_snapshot

STALE_AFTER = dt.timedelta(hours=24)
ROLE_KEY = "_signed_in_role"
USER_KEY = "_signed_in_user"
IDENTITY_KEY = "_signed_in_identity"


LANG_KEY = "_lang"  # not a widget key: survives page switches, which clear unrendered widget state


def lang() -> str:
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def t(key: str, **values: object) -> str:
    return label(key, lang(), **values)


def coded(group: str, value: str | None) -> str:
    """Display name of one coded value; unknown codes show as they are."""
    return "" if value is None else code_labels(group, lang()).get(value, value)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")


def md(value: object) -> str:
    """A value from a source (or an identity) as literal text inside Markdown: every character that
    Markdown, Streamlit's directives (``:red[...]``, ``:material/...:``) or HTML could read is
    escaped, and line breaks become spaces. ``st.write``/``st.caption``/``st.markdown`` never get a
    source value without it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


@contextlib.contextmanager
def error_boundary() -> Iterator[None]:
    """Around every page run: a known error shows its catalogue message; anything else a generic one
    with an incident id (the stack goes to the server log, never to the browser)."""
    try:
        yield
    except errors.DashboardError as exc:
        st.error(t(exc.label, reason=md(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)),
                 icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - the boundary: every other error ends here, with an id
        label_key, incident = errors.unexpected(exc)
        st.error(t(label_key, id=incident), icon=":material/error:")


def role() -> str:
    """The viewer's role, decided by ``sign_in`` at the top of every run."""
    try:
        return st.session_state[ROLE_KEY]
    except KeyError:
        raise access.AccessDenied("not signed in") from None


def user_name() -> str:
    return st.session_state.get(USER_KEY, "?")


def sees_personal_data() -> bool:
    return data.may_see_personal_data(role())


def _demo_only() -> bool:
    """Whether the live snapshot holds only generated demo stores (no snapshot: nothing real either)."""
    snapshot = live_snapshot()
    if snapshot is None:
        return True
    return bool(_cached_query(str(snapshot), "snapshot_sources", ())["demo_only"][0])


def sign_in() -> str | None:
    """Decide the viewer's identity and role for this run; None (with a message) means no access."""
    st.session_state.pop(ROLE_KEY, None)
    try:
        mode = access.auth_mode()
        if mode == "demo":
            access.check_demo_allowed(_demo_only())
            st.warning(t("auth.demo_banner"), icon=":material/science:")
            default = access.demo_role()
            chosen = st.sidebar.selectbox(t("auth.demo_role"), access.ROLES, index=access.ROLES.index(default),
                                          key="demo_role", format_func=lambda r: coded("role", r))
            identity = access.Identity(f"demo:{chosen}", (), "demo")
            resolved = access.current_role(identity)
        else:
            if mode == "proxy":
                access.check_proxy_binding(st.get_option("server.address"))
                identity = access.identity_from_headers(st.context.headers)
            else:
                identity = _oidc_identity()
                if identity is None:
                    return None
            resolved = access.current_role(identity)
    except access.AccessDenied as exc:
        st.error(t("auth.denied", reason=md(exc)), icon=":material/block:")
        return None
    st.session_state[ROLE_KEY] = resolved
    st.session_state[USER_KEY] = identity.name
    st.session_state[IDENTITY_KEY] = identity
    return resolved


def _oidc_identity() -> access.Identity | None:
    """Streamlit's OpenID Connect sign-in; shows the sign-in button while nobody is signed in."""
    if not _oidc_configured():
        st.title(t("app.title"))
        st.error(t("errors.oidc_missing"), icon=":material/error:")
        return None
    if not st.user.is_logged_in:
        st.title(t("app.title"))
        st.write(t("auth.intro"))
        unreachable = _provider_unreachable(str(st.secrets["auth"].get("server_metadata_url", "")))
        if unreachable:
            st.error(t("auth.provider_unreachable", host=md(unreachable)), icon=":material/cloud_off:")
            return None
        st.info(t("auth.sign_in_hint"))
        if st.button(t("auth.sign_in"), type="primary", icon=":material/login:"):
            try:
                st.login()
            except Exception as exc:  # noqa: BLE001 - Streamlit raises its own error class when [auth] is incomplete
                st.error(t("auth.not_configured", reason=md(str(exc).splitlines()[0])))
        return None
    info = st.user.to_dict()
    groups = info.get("groups") or []
    return access.Identity(info.get("email"), tuple(groups if isinstance(groups, list) else [groups]), "oidc")


def _oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section (without it ``st.user`` cannot sign in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: Streamlit raises its own error class
        return False


@st.cache_data(ttl=30, show_spinner=False)
def _provider_unreachable(metadata_url: str) -> str | None:
    """The identity provider's host when its discovery document cannot be fetched (checked at most every
    30 s), so the sign-in page says so instead of sending the user to an error."""
    host = urllib.parse.urlsplit(metadata_url).netloc or metadata_url
    try:
        with urllib.request.urlopen(metadata_url, timeout=3) as response:  # noqa: S310 - the configured provider
            json.load(response)
    except (OSError, ValueError):
        return host
    return None


def policy() -> Policy:
    return load_policy()


def live_snapshot() -> Path | None:
    """The snapshot pages read: the live one, or the newest readable kept version when the live file
    cannot be read (``snapshot_fallback`` says why, and the sidebar warns)."""
    return _usable(*_live_key())[0]


def snapshot_fallback() -> str | None:
    """Why the pages show an older snapshot than the live one (None: they show the live one)."""
    return _usable(*_live_key())[1]


def _live_key() -> tuple[str | None, int, int]:
    live = current_snapshot()
    if live is None:
        return None, 0, 0
    stat = live.stat()
    return str(live), stat.st_size, stat.st_mtime_ns


@st.cache_data(max_entries=16, show_spinner=False)
def _usable(live: str | None, _size: int, _mtime: int) -> tuple[Path | None, str | None]:
    """Checked once per version of the live file (its name, size and modification time are the key)."""
    if live is None:
        return None, None
    usable = usable_snapshot(Path(live).parent)
    return usable.path, usable.problem


@st.cache_data(max_entries=8, show_spinner=False)
def _layout(path: str) -> int:
    return snapshot_layout(Path(path))


def snapshot_outdated() -> bool:
    """The live snapshot was built by an older version whose tables this version cannot read."""
    snapshot = live_snapshot()
    return snapshot is not None and _layout(str(snapshot)) != LAYOUT


def no_readable_snapshot() -> bool:
    """A snapshot is live but neither it nor any kept version can be read."""
    return live_snapshot() is None and snapshot_fallback() is not None


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str):
    return data.connect(Path(path))


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_query(path: str, name: str, params: tuple) -> pl.DataFrame:
    return data.run(_connection(path), name, **dict(params))


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_page(path: str, name: str, limit: int | None, params: tuple) -> data.Page:
    return data.run_page(_connection(path), name, limit, **dict(params))


def query_page(name: str, limit: int | None, **params) -> data.Page:
    """A page of list query ``name`` on the live snapshot: its first ``limit`` rows (masked for the
    viewer's role) and the total."""
    snapshot = live_snapshot()
    if snapshot is None:
        raise RuntimeError("no snapshot published")
    page = _cached_page(str(snapshot), name, limit, tuple(sorted(params.items())))
    return data.Page(data.mask_personal(page.frame, role()), page.total)


def query(name: str, **params) -> pl.DataFrame:
    """Run a named query on the live snapshot, cached, masked for the viewer's role."""
    snapshot = live_snapshot()
    if snapshot is None:
        raise RuntimeError("no snapshot published")
    frame = _cached_query(str(snapshot), name, tuple(sorted(params.items())))
    return data.mask_personal(frame, role())


def today() -> dt.date:
    return dt.datetime.now(BERLIN).date()


def as_of_input(key: str = "as_of") -> dt.date:
    return st.date_input(t("app.as_of"), value=today(), key=key, help=t("app.as_of_help"),
                         format="DD.MM.YYYY" if lang() == "de" else "YYYY-MM-DD")


def fmt_int(value: int | float | None) -> str:
    if value is None:
        return "–"
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang() == "de" else text


def fmt_pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f} %"
    return text.replace(".", ",") if lang() == "de" else text


def fmt_hours(value: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f} h"
    return text.replace(".", ",") if lang() == "de" else text


def fmt_delta(value: float | None, previous: float | None, points: bool = False) -> str | None:
    """The change against an earlier figure for ``st.metric`` (percentage points for rates)."""
    if value is None or previous is None:
        return None
    change = value - previous
    if not points:
        return ("+" if change > 0 else "") + fmt_int(change)
    number = f"{change:+.1f}"
    return f"{number.replace('.', ',') if lang() == 'de' else number} {t('app.points')}"


def fmt_bytes(value: float | None) -> str:
    value = float(value or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            text = f"{value:.1f} {unit}"
            return text.replace(".", ",") if lang() == "de" else text
        value /= 1024
    return ""


def fmt_moment(value: dt.datetime | None) -> str:
    """A timestamp in Europe/Berlin with its offset, e.g. 27.10.2025 09:00 +01:00."""
    if value is None:
        return ""
    local = value.astimezone(BERLIN)
    pattern = "%d.%m.%Y %H:%M:%S" if lang() == "de" else "%Y-%m-%d %H:%M:%S"
    return f"{local.strftime(pattern)} {local.isoformat()[-6:]}"


def with_moments(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """Timestamp columns as Europe/Berlin text with offset (empty where there is none)."""
    return frame.with_columns(frame[c].map_elements(fmt_moment, return_dtype=pl.String).fill_null("")
                              for c in columns if c in frame.columns)


def date_column(title: str) -> st.column_config.DateColumn:
    return st.column_config.DateColumn(title, format="DD.MM.YYYY" if lang() == "de" else "YYYY-MM-DD")


def translate(frame: pl.DataFrame, **groups: str) -> pl.DataFrame:
    """Replace coded values (``right="right"``) by their catalogue labels, column by column."""
    return frame.with_columns(pl.col(column).replace(code_labels(group, lang()))
                              for column, group in groups.items() if column in frame.columns)


def show_table(frame: pl.DataFrame, total: int | None = None, dates: tuple[str, ...] = (),
               key: str | None = None, titles: dict[str, str] | None = None):
    """A table with catalogue column titles (``col.<name>`` unless ``titles`` names another key);
    dates in the language's format.

    With ``key`` a row can be selected; the selection event is returned.
    """
    keys = {c: (titles or {}).get(c, f"col.{c}") for c in frame.columns}
    config = {c: date_column(t(keys[c])) if c in dates else st.column_config.Column(t(keys[c]))
              for c in frame.columns}
    selectable = dict(key=key, on_select="rerun", selection_mode="single-row") if key else {}
    event = st.dataframe(frame, hide_index=True, width="stretch", column_config=config, **selectable)
    if total is not None and total > frame.height:
        st.caption(t("app.rows_shown", shown=fmt_int(frame.height), total=fmt_int(total)))
    return event if key else None


def fmt_date(value: dt.date | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d.%m.%Y") if lang() == "de" else value.isoformat()


@st.cache_resource(show_spinner=False)
def _runner(data_dir: str) -> jobs.JobRunner:
    """One worker pool per server process and data dir, shared by every session."""
    return jobs.JobRunner(jobs.JobStore(Path(data_dir) / "state" / "jobs.sqlite", Path(data_dir) / "exports"))


def runner() -> jobs.JobRunner:
    return _runner(str(paths.data_dir()))


def kpi_history() -> history.KpiHistory:
    return history.KpiHistory(paths.data_dir() / "state" / "kpi_history.sqlite")


def list_export(name: str, filename: str, key: str, label: str | None = None, **params) -> None:
    """Export every row of named list query ``name`` with the filters shown, as a background job."""
    export_button("list_csv", {"query": name, "params": params, "filename": Path(filename).stem}, key=key,
                  label=label or t("app.download_csv"))


def export_button(kind: str, params: dict, key: str, label: str | None = None) -> None:
    """A button that starts an export job (if the role may), then the job's live status and download."""
    if not access.may_export(role(), kind, params.get("query") if kind == "list_csv" else None):
        return
    if st.button(label or t(f"export_kind.{kind}"), key=key, icon=":material/download:"):
        with error_boundary():  # e.g. too many exports still running: say so, keep the page
            job = runner().submit(kind, params, user_name(), role())
            st.session_state[f"{key}_job"] = job.id
            st.toast(t("jobs.started"), icon=":material/hourglass_top:")
    job_id = st.session_state.get(f"{key}_job")
    if job_id:
        job_status(job_id, where=key)


ACTIVE = jobs.ACTIVE


def job_status(job_id: str, where: str) -> None:
    """One job's state: live while it runs (a fragment polls the store), then its download or error."""
    job = runner().store.get(job_id)
    if job.status in ACTIVE:
        _live_job(job_id)
    else:
        job_result(job, where)


@st.fragment(run_every=1.0)
def _live_job(job_id: str) -> None:
    with error_boundary():  # a fragment reruns on its own, outside the page's boundary
        job = runner().store.get(job_id)
        if job.status not in ACTIVE:
            st.rerun()  # the whole page once, to show the result without polling further
        st.progress(job.progress, text=t("jobs.running", kind=t(f"export_kind.{job.kind}"),
                                         progress=job.progress))


def job_result(job: jobs.Job, where: str) -> None:
    """The download (for a job the viewer may see) or why the job failed."""
    store = runner().store
    if not store.visible_to(job, user_name(), role()):
        return
    if store.offerable(job, user_name(), role()):
        # The bytes are produced on click, where the store checks the current role and the expiry again
        # and writes the audit entry: no file sits behind a /media URL before someone asked for it.
        identity = st.session_state.get(IDENTITY_KEY)
        st.download_button(
            t("jobs.download", name=job.path.name, size=fmt_bytes(job.size), rows=fmt_int(job.rows)),
            functools.partial(_serve, job.id, identity), file_name=job.path.name, key=f"dl_{where}_{job.id}",
            mime=MIME.get(job.path.suffix, "application/octet-stream"), icon=":material/file_download:",
            on_click="ignore")
    elif job.status == "failed":
        st.error(t("jobs.failed", error=md(job.error or "?")), icon=":material/error:")
    elif job.status == "expired":
        st.caption(t("jobs.expired"))


def _serve(job_id: str, identity: access.Identity) -> bytes:
    """A download's bytes, for the identity that clicked, in the role it has *now* (roles file re-read)."""
    return runner().store.serve(job_id, identity.name, access.current_role(identity))


MIME = {".csv": "text/csv", ".zip": "application/zip", ".json": "application/json",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def language_switch() -> None:
    st.session_state["lang"] = lang()  # seed the widget from the kept choice on every run
    st.sidebar.selectbox(t("app.language"), LANGUAGES, key="lang", on_change=_keep_language,
                         format_func=lambda code: {"de": "Deutsch", "en": "English"}[code])


def _keep_language() -> None:
    st.session_state[LANG_KEY] = st.session_state["lang"]


def sidebar() -> None:
    """The Datenstand of the live snapshot and who is signed in."""
    with st.sidebar:
        snapshot = live_snapshot()
        if snapshot is None:
            return
        problem = snapshot_fallback()
        if problem:
            st.error(t("app.snapshot_fallback", name=snapshot.name, reason=md(problem)), icon=":material/warning:")
        info = query("snapshot_info").row(0, named=True)
        built = info["built_at"]
        st.caption(f"{t('app.data_as_of')}: {fmt_moment(built)}")
        st.caption(t("app.fed_by", sources=md(", ".join(info["fed_by"]))))
        st.caption(f"{t('app.policy_version')}: {info['policy_version']}")
        if ROLE_KEY in st.session_state:
            st.caption(t("auth.signed_in_as", user=md(user_name()), role=coded("role", role())))
            if access.auth_mode() == "oidc":
                st.button(t("auth.sign_out"), on_click=st.logout, icon=":material/logout:")
        if dt.datetime.now(dt.UTC) - built > STALE_AFTER:
            st.warning(t("app.stale"))
        _refresh_panel()


REFRESH_KEY = "_refresh_job"


def _refresh_panel() -> None:
    """"Datenstand aktualisieren" for the DPO: a build as a background job. A build under way (from
    this button, another user's or the CLI's job) is shown instead of starting a second one."""
    if ROLE_KEY not in st.session_state or not access.may_refresh(role()):
        return
    store = runner().store
    if st.button(t("refresh.button"), icon=":material/sync:", key="refresh_snapshot"):
        with error_boundary():
            st.session_state[REFRESH_KEY] = runner().refresh(user_name(), role()).id
    latest = store.latest(jobs.REFRESH)
    if latest is None:
        return
    if latest.status in ACTIVE:
        _refresh_live(latest.id)
    elif st.session_state.get(REFRESH_KEY) == latest.id:  # the result of the build this viewer started
        _refresh_result(latest)


@st.fragment(run_every=1.0)
def _refresh_live(job_id: str) -> None:
    with error_boundary():
        job = runner().store.get(job_id)
        if job.status not in ACTIVE:
            st.rerun()  # the whole app: the new snapshot (or the error) shows at once
        st.progress(job.progress, text=t("refresh.running", user=md(job.requested_by), progress=job.progress))


def _refresh_result(job: jobs.Job) -> None:
    if job.status == "failed":
        st.error(t("refresh.failed", error=md(job.error or "?")), icon=":material/error:")
        return
    result = refresh.summary(job)
    if result is None:
        return
    tables = result["tables"]
    st.success(t("refresh.done", read=fmt_int(sum(v[0] for v in tables.values())),
                 rejected=fmt_int(sum(v[2] for v in tables.values()))), icon=":material/check_circle:")
    with st.expander(t("refresh.per_table")):  # the sidebar is narrow: one line per table
        st.text("\n".join(t("refresh.table_line", table=name, read=fmt_int(read), rejected=fmt_int(rejected))
                           for name, (read, _accepted, rejected) in tables.items()))


def now() -> dt.datetime:
    """The current moment, truncated to the minute so cached clock figures are reused."""
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
