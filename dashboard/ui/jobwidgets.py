"""Export buttons and their jobs: a click creates a job in the server's worker pool; fragments
read the job store (worker threads never call st.*); a download's bytes are produced, checked and
audited only when it is clicked.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import streamlit as st

from dashboard import access, audit, history, jobs, paths
from dashboard.ui.boundary import error_boundary
from dashboard.ui.formats import fmt_bytes, fmt_int
from dashboard.ui.text import coded, lang, md, t
from dashboard.ui.urlstate import cockpit_base_url
from dashboard.ui.who import IDENTITY_KEY, role, user_name


@st.cache_resource(show_spinner=False)
def _runner(data_dir: str) -> jobs.JobRunner:
    """One worker pool per server process and data dir, shared by every session."""
    return jobs.JobRunner(jobs.JobStore(Path(data_dir) / "state" / "jobs.sqlite", Path(data_dir) / "exports"))


def runner() -> jobs.JobRunner:
    return _runner(str(paths.data_dir()))


def kpi_history() -> history.KpiHistory:
    return history.KpiHistory(paths.data_dir() / "state" / "kpi_history.sqlite")


# Lists up to this many rows download at the click (made and audited then); longer ones run as a job.
IMMEDIATE_ROWS = 5000


def list_export(name: str, filename: str, key: str, total: int, label: str | None = None, **params) -> None:
    """Every row of named list query ``name`` with the filters shown, as a CSV for people (the page's
    titles and labels, local dates) or, as an explicit choice, machine-readable (codes, ISO dates).
    Nothing to export: no button."""
    if total == 0 or not access.may_export(role(), "list_csv", name):
        return
    left, right = st.columns([1, 2], vertical_alignment="center")
    job_params = {"query": name, "params": params, "filename": Path(filename).stem, **file_format(right, key)}
    label = label or t("app.download_csv")
    with left:
        if total > IMMEDIATE_ROWS:
            export_button("list_csv", job_params, key=key, label=label)
            return
        instant_download("list_csv", job_params, f"{key}_now", f"{label} ({fmt_int(total)})",
                         f"{Path(filename).stem}.csv")


def file_format(container, key: str) -> dict:
    """A file for people in the UI's language (titles, labels, local dates), unless "maschinenlesbar" is
    ticked (codes, ISO dates, UTC): the job parameters that say which."""
    machine = container.checkbox(t("exports.machine_readable"), key=f"{key}_machine", help=t("exports.machine_help"))
    return {"format": "machine" if machine else "readable", "lang": lang()}


def instant_download(kind: str, params: dict, key: str, label: str, file_name: str) -> None:
    """A small export made, served and audited at the click: no job to wait for, no second click."""
    if not access.may_export(role(), kind, params.get("query") if kind == "list_csv" else None):
        return
    identity = st.session_state.get(IDENTITY_KEY)
    _say_refused(key)
    st.download_button(label, functools.partial(_export_now, kind, params, identity), file_name=file_name,
                       mime=MIME.get(Path(file_name).suffix, "application/octet-stream"), key=key,
                       icon=":material/download:",
                       on_click=functools.partial(_check_click, key, identity, None, kind, params.get("query")))


def deadlines_calendar(key: str) -> None:
    """"Fristen als Kalender (.ics)": every open request deadline and running breach clock as of now, the
    events linking back to where the page was opened (dashboard.calendar_ics)."""
    instant_download("deadlines_ics", {"lang": lang(), "base_url": cockpit_base_url()}, key,
                     t("export_kind.deadlines_ics"), "fristen.ics")


def _export_now(kind: str, params: dict, identity: access.Identity) -> bytes:
    """An export's bytes at the click: made, served and audited for the identity that clicked, in the
    role it has now. Runs outside the script thread, so nothing here calls ``st.*``."""
    return runner().run_now(kind, params, identity.name, access.current_role(identity))


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


# What a download holds, said by its kind: lines of a CSV, a subject's records in a ZIP or JSON, events of
# a calendar; the Excel report by its size alone.
DOWNLOAD_LABELS = {"subject_access": "jobs.download_records", "portability": "jobs.download_records",
                   "management_report": "jobs.download_report", "deadlines_ics": "jobs.download_events"}


def job_result(job: jobs.Job, where: str) -> None:
    """The download (for a job the viewer may see) or why the job failed."""
    store = runner().store
    if not store.visible_to(job, user_name(), role()):
        return
    key = f"dl_{where}_{job.id}"
    _say_refused(key)
    if store.offerable(job, user_name(), role()):
        # The bytes are produced on click, where the store checks the current role and the expiry again
        # and writes the audit entry: no file sits behind a /media URL before someone asked for it.
        identity = st.session_state.get(IDENTITY_KEY)
        st.download_button(
            t(DOWNLOAD_LABELS.get(job.kind, "jobs.download"), name=job.path.name, size=fmt_bytes(job.size),
              rows=fmt_int(job.rows)),
            functools.partial(_serve, job.id, identity), file_name=job.path.name, key=key,
            mime=MIME.get(job.path.suffix, "application/octet-stream"), icon=":material/file_download:",
            on_click=functools.partial(_check_click, key, identity, job.id, job.kind, job.params.get("query")))
    elif job.status == "failed":
        st.error(t("jobs.failed", error=md(job.error or "?")), icon=":material/error:")
    elif job.status == "expired":
        st.caption(t("jobs.expired"))


REFUSED_KEY = "_download_refused"


def _check_click(key: str, identity: access.Identity, job_id: str | None, kind: str, query: str | None) -> None:
    """A download's click, in the script thread before the rerun: when the bytes will be refused (the file
    expired meanwhile, the role no longer allows it), the reason is kept for the rerun to show beside the
    button. Streamlit shows nothing when the data callable raises, and the callable may not call ``st.*``;
    the job store checks again, with the same rules, when it produces the bytes."""
    try:
        now = access.current_role(identity)
        not_allowed = t("jobs.refused_role", role=coded("role", now))
        if job_id is None:
            reason = None if access.may_export(now, kind, query) else not_allowed
        else:
            store = runner().store
            job = store.get(job_id)
            gone = jobs.expired(job) or job.status == "expired" or job.path is None or not job.path.is_file()
            reason = None if store.offerable(job, identity.name, now) else (
                t("jobs.refused_expired") if gone else not_allowed)
    except access.AccessDenied as exc:
        reason = t("jobs.refused_access", reason=md(exc))
    if reason:
        st.session_state.setdefault(REFUSED_KEY, {})[key] = reason


def _say_refused(key: str) -> None:
    reason = st.session_state.get(REFUSED_KEY, {}).pop(key, None)
    if reason:
        st.warning(reason, icon=":material/block:")


def _serve(job_id: str, identity: access.Identity) -> bytes:
    """A download's bytes, for the identity that clicked, in the role it has *now* (roles file re-read)."""
    return runner().store.serve(job_id, identity.name, access.current_role(identity))


MIME = {".csv": "text/csv", ".zip": "application/zip", ".json": "application/json",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".ics": "text/calendar"}


def visible_jobs(limit: int) -> list[jobs.Job]:
    """The exports the viewer may see, newest first: their own, or everybody's for the DPO."""
    mine_only = not access.sees_all_jobs(role())
    return runner().store.list(user=user_name() if mine_only else None, limit=limit)


def rerun(job: jobs.Job) -> jobs.Job:
    """The same export again, for the viewer in their current role (checked by the job store)."""
    return runner().rerun(job, user_name(), role())


def audit_check() -> audit.AuditCheck:
    """The audit trail's chain: was any entry changed, replaced or removed?"""
    return runner().store.verify_audit()


def audit_users() -> list[str]:
    return runner().store.audit_users()


def audit_entries(user: str | None, kind: str | None, since: dt.date | None, limit: int) -> list:
    return runner().store.audit_entries(user=user, kind=kind, since=since.isoformat() if since else None,
                                        limit=limit)
