"""The sidebar: the Datenstand (when, from which sources, under which policy), who is signed in, and
the DPO's "Datenstand aktualisieren".
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import access, jobs, refresh
from dashboard.snapshot import last_check
from dashboard.ui.boundary import error_boundary
from dashboard.ui.formats import fmt_int, fmt_moment
from dashboard.ui.jobwidgets import ACTIVE, runner
from dashboard.ui.live import STALE_AFTER, live_snapshot, query, snapshot_fallback
from dashboard.ui.text import coded, md, t
from dashboard.ui.who import ROLE_KEY, role, user_name


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
        # to the minute, as an office writes it; the tooltip names the exact version (seconds included)
        st.caption(f"{t('app.data_as_of')}: {fmt_moment(built)}", help=t("app.snapshot_version", name=snapshot.name))
        checked = last_check(snapshot)  # a refresh since found nothing changed: say when it asked
        if checked is not None:
            st.caption(t("app.checked_unchanged", at=fmt_moment(checked)))
        st.caption(t("app.fed_by", sources=md(", ".join(info["fed_by"]))))
        st.caption(f"{t('app.policy_version')}: {info['policy_version']}")
        if ROLE_KEY in st.session_state:
            st.caption(t("auth.signed_in_as", user=md(user_name()), role=coded("role", role())))
            if access.auth_mode() == "oidc":
                st.button(t("auth.sign_out"), on_click=st.logout, icon=":material/logout:")
        if dt.datetime.now(dt.UTC) - max(built, checked or built) > STALE_AFTER:
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
    if result.get("nothing_changed"):
        st.success(t("refresh.nothing_changed"), icon=":material/check_circle:")
        return
    st.success(t("refresh.done", read=fmt_int(sum(v[0] for v in tables.values())),
                 rejected=fmt_int(sum(v[2] for v in tables.values()))), icon=":material/check_circle:")
    with st.expander(t("refresh.per_table")):  # the sidebar is narrow: one line per table
        unchanged = set(result.get("unchanged", ()))
        st.text("\n".join(t("refresh.table_unchanged" if name in unchanged else "refresh.table_line", table=name,
                             read=fmt_int(read), rejected=fmt_int(rejected))
                           for name, (read, _accepted, rejected) in tables.items()))
