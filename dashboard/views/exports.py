"""Exporte: start exports, follow the jobs (live while they run), download, re-run; the audit trail."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import access, presentation, ui
from dashboard.ui import t

JOBS_SHOWN = 50


def _new_exports() -> None:
    st.subheader(t("exports.new"))
    c1, c2 = st.columns(2)
    with c1:
        if access.may_export(ui.role(), "subject_access"):
            _subject_exports()
    with c2:
        ui.export_button("management_report", {"lang": ui.lang()}, key="export_report")


def _subject_exports() -> None:
    """Art. 15 / Art. 20 for a data subject the DPO looks up by name, e-mail or id and picks from the
    matches: a job starts only for a person the snapshot holds."""
    term = st.text_input(t("exports.subject_search"), key="exports_subject", max_chars=100,
                         help=t("exports.subject_search_help")).strip()
    if not term:
        return
    matches = ui.query("subject_search", term=term)
    if matches.is_empty():
        st.warning(t("exports.subject_none", term=ui.md(term)), icon=":material/person_search:")
        return
    people = {r["contact_id"]: r for r in matches.iter_rows(named=True)}
    contact_id = st.radio(t("exports.subject_matches", count=ui.fmt_int(len(people))), list(people),
                          key="exports_subject_choice", format_func=lambda c: ui.md(_person(people[c])))
    if contact_id:
        params = {"contact_id": contact_id, "lang": ui.lang()}
        ui.export_button("subject_access", params, key="export_art15")
        ui.export_button("portability", params, key="export_art20")


def _person(row: dict) -> str:
    """Who a match is: name, e-mail and id (source values: the picker shows them through ``ui.md``, since
    radio labels render Markdown, images included)."""
    name = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
    return " · ".join(p for p in (name, row["email"], row["contact_id"]) if p)


def _jobs() -> None:
    st.subheader(t("exports.jobs"))
    jobs = ui.visible_jobs(JOBS_SHOWN)
    if any(j.status in ui.ACTIVE for j in jobs):
        _job_table_live()
    else:
        _job_table(jobs)


@st.fragment(run_every=2.0)
def _job_table_live() -> None:
    with ui.error_boundary():  # a fragment reruns on its own, outside the page's boundary
        jobs = ui.visible_jobs(JOBS_SHOWN)
        if not any(j.status in ui.ACTIVE for j in jobs):
            st.rerun()
        _job_table(jobs)


def _job_table(jobs) -> None:
    if not access.sees_all_jobs(ui.role()):  # the job list shows only the viewer's own exports
        st.caption(t("exports.own_jobs_only"))
    if not jobs:
        st.info(t("exports.none"))
        return
    for job in jobs:
        with st.container(border=True):
            c1, c2, c3 = st.columns([3, 4, 1])
            c1.markdown(f"**{t(f'export_kind.{job.kind}')}**  \n"
                        f"{ui.fmt_moment(dt.datetime.fromisoformat(job.created_at))} · {ui.md(job.requested_by)} · "
                        f"{ui.coded('job_status', job.status)}")
            with c2:
                if job.status in ui.ACTIVE:
                    st.progress(job.progress, text=f"{job.progress} %")
                else:
                    ui.job_result(job, where="jobs")
            if job.status not in ui.ACTIVE and access.may_export(ui.role(), job.kind, job.params.get("query")):
                if c3.button(t("exports.rerun"), key=f"rerun_{job.id}", icon=":material/replay:"):
                    with ui.error_boundary():
                        ui.rerun(job)
                        st.rerun()


def _audit_trail() -> None:
    if not access.sees_audit_trail(ui.role()):
        return
    st.subheader(t("exports.audit"))
    check = ui.audit_check()  # the chain of entries: was any changed, replaced or removed?
    if check.intact:
        st.success(t("exports.audit_intact", entries=ui.fmt_int(check.chained), legacy=ui.fmt_int(check.legacy)),
                   icon=":material/verified:")
    else:
        st.error(t("exports.audit_broken", seq=check.broken_at), icon=":material/gpp_bad:")
    c1, c2, c3 = st.columns(3)
    user = c1.selectbox(t("exports.audit_user"), [None, *ui.audit_users()], key="audit_user",
                        format_func=lambda u: t("app.all") if u is None else u)
    kind = c2.selectbox(t("exports.audit_kind"), [None, *access.PERSONAL_EXPORTS, *access.AGGREGATE_EXPORTS,
                                                   "list_csv"], key="audit_kind",
                        format_func=lambda k: t("app.all") if k is None else t(f"export_kind.{k}"))
    since = c3.date_input(t("exports.audit_since"), value=None, key="audit_since",
                          format=ui.date_format())
    entries = ui.audit_entries(user, kind, since, limit=500)
    shown = presentation.audit_for_people(  # labels and Europe/Berlin times, as everywhere else on the page
        presentation.audit_frame(entries), ui.lang(), lambda at: ui.fmt_moment(dt.datetime.fromisoformat(at)))
    if shown.is_empty():
        st.info(t("exports.audit_empty"), icon=":material/inbox:")
    else:
        st.dataframe(shown, hide_index=True, width="stretch", placeholder="–", column_config={
            c: st.column_config.Column(t(f"audit.{c}")) for c in shown.columns})
    chosen = ui.file_format(st, "export_audit")
    ui.export_button("audit_csv", {"user": user, "kind": kind, "since": since.isoformat() if since else None,
                                   **chosen}, key="export_audit")


def render() -> None:
    st.title(t("exports.title"))
    st.caption(t("exports.intro"))
    _new_exports()
    _jobs()
    _audit_trail()


render()
