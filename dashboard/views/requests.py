"""Betroffenenanfragen: the DPO's work queue against the statutory deadlines (R1)."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboard import deadlines, ui
from dashboard.schema import BY_NAME, RIGHTS
from dashboard.ui import t

QUEUE_LIMIT = 500
CLOCKS = deadlines.REQUEST_CLOCKS
CLOCK_COLOURS = {"overdue": "#c62828", "due_soon": "#f9a825", "on_track": "#2e7d32"}


def _figures(as_of, due_soon_days: int) -> None:
    kpi = ui.query("requests_kpis", as_of=as_of, due_soon_days=due_soon_days).row(0, named=True)
    cols = st.columns(6)
    cols[0].metric(t("requests.open"), ui.fmt_int(kpi["open"]))
    cols[1].metric(t("requests.overdue"), ui.fmt_int(kpi["overdue"]))
    cols[2].metric(t("requests.due_soon", days=due_soon_days), ui.fmt_int(kpi["due_soon"]))
    cols[3].metric(t("requests.on_time"), ui.fmt_pct(kpi["on_time_pct_90d"]))
    cols[4].metric(t("requests.median_days"), ui.fmt_int(kpi["median_days_90d"]))
    cols[5].metric(t("requests.hidden"), ui.fmt_int(kpi["hidden"]))


def _charts(as_of, due_soon_days: int, filters: dict) -> None:
    """The open requests by right and clock, and the monthly flow, both of the requests the page's
    filters leave (the same ones as the queue below)."""
    left, right = st.columns(2)
    with left:
        ui.plot(ui.shared_figure(_by_right_figure, as_of=as_of, due_soon_days=due_soon_days, **filters),
                on_select=_filter_by_clicked_bar, key="requests_by_right", selection_mode="points")
        st.caption(t("requests_page.by_right_help"))
    chosen = {k: filters[k] for k in ("rights", "channels", "assignees", "received_from", "received_to")}
    with right:
        ui.plot(ui.shared_figure(_monthly_figure, as_of=as_of, **chosen))
        if _filtered():
            st.caption(t("requests_page.monthly_filtered"))


def _by_right_figure(as_of, due_soon_days: int, **filters):
    by_right = ui.query("requests_by_right", as_of=as_of, due_soon_days=due_soon_days, **filters)
    labels = {c: ui.coded("status", c) for c in CLOCKS}
    fig = px.bar(by_right.with_columns(right_code=pl.col("right"), clock_code=pl.col("clock"))
                 .pipe(ui.translate, right="right")
                 .with_columns(pl.col("clock").replace(labels)).to_pandas(),
                 x="right", y="requests", color="clock", custom_data=["right_code", "clock_code"],
                 color_discrete_map={labels[c]: CLOCK_COLOURS[c] for c in CLOCKS},
                 category_orders={"clock": [labels[c] for c in CLOCKS]},
                 title=t("requests_page.by_right"),
                 labels={"right": "", "requests": t("requests_page.count"), "clock": t("col.clock")})
    return ui.style(fig)


def _monthly_figure(as_of, **chosen):
    monthly = ui.query("requests_monthly", as_of=as_of, **chosen)
    series = {"received": t("requests_page.received"), "on_time": t("requests_page.answered_on_time"),
              "late": t("requests_page.answered_late")}
    long = monthly.unpivot(index="month", on=list(series), variable_name="series", value_name="count")
    fig = px.line(long.with_columns(pl.col("series").replace(series)).to_pandas(), x="month",
                  y="count", color="series", markers=True, title=t("requests_page.monthly"),
                  labels={"month": t("requests_page.month"), "count": t("requests_page.count"),
                          "series": t("requests_page.series")})
    return ui.style(fig, x="month", partial_to=as_of)


def _filter_by_clicked_bar() -> None:
    """A click on a bar filters the page by its right and, on the red part, by its clock. A callback,
    so it runs once per click, before the filters are drawn (they then show what it set)."""
    event = st.session_state.get("requests_by_right")
    points = event["selection"]["points"] if event and event.get("selection") else []
    if points:
        to_url = ui.bind_to_url("requests_overdue_only", "overdue", flag=True)
        st.session_state["requests_rights"] = sorted({p["customdata"][0] for p in points})
        st.session_state["requests_overdue_only"] = all(p["customdata"][1] == "overdue" for p in points)
        to_url()
        _url("requests_rights")()  # the link keeps the right too


FILTER_KEYS = ("requests_rights", "requests_statuses", "requests_assignees", "requests_channels",
               "requests_overdue_only", "requests_due_within", "requests_received")
# The choice filters in the URL by their codes (a link works in either language): widget -> (parameter,
# the values it may take; None: any, e.g. an assignee's login). Dates, numbers and switches bind natively.
URL_PARAMS = {"requests_rights": ("right", RIGHTS),
              "requests_statuses": ("request_status", BY_NAME["requests"].column("status").enum),
              "requests_assignees": ("assignee", None),
              "requests_channels": ("channel", BY_NAME["requests"].column("channel").enum)}


def _url(key: str):
    param, allowed = URL_PARAMS[key]
    return ui.bind_to_url(key, param, allowed, many=True)


def _filtered() -> bool:
    return any(st.session_state.get(k) not in (None, False, [], ()) for k in FILTER_KEYS)


def _filters() -> dict:
    """The filters of the charts and the queue; open whenever one is set (by hand, a bar or a link)."""
    on_url = ui.bind_to_url("requests_overdue_only", "overdue", flag=True)
    with st.expander(t("requests_page.filters"), expanded=_filtered(), icon=":material/filter_alt:"):
        c1, c2, c3, c4 = st.columns(4)
        rights = ui.pick(c1, t("requests_page.rights"), RIGHTS, key="requests_rights",
                         format_func=lambda v: ui.coded("right", v), on_change=_url("requests_rights"))
        statuses = ui.pick(c2, t("requests_page.statuses"), BY_NAME["requests"].column("status").enum,
                           key="requests_statuses", format_func=lambda v: ui.coded("request_status", v),
                           on_change=_url("requests_statuses"))
        # Staff names are personal data too: only roles that see personal data filter by them.
        assignees = ui.pick(c3, t("requests_page.assignees"), ui.query("request_assignees")["assignee"].to_list(),
                            key="requests_assignees", on_change=_url("requests_assignees")
                            ) if ui.sees_personal_data() else []
        channels = ui.pick(c4, t("requests_page.channels"), BY_NAME["requests"].column("channel").enum,
                           key="requests_channels", format_func=lambda v: ui.coded("channel", v),
                           on_change=_url("requests_channels"))
        c1, c2, c3 = st.columns(3)
        overdue_only = c1.toggle(t("requests_page.overdue_only"), key="requests_overdue_only", on_change=on_url)
        due_within = c2.number_input(t("requests_page.due_within"), min_value=0, max_value=120, value=None,
                                     step=1, key="requests_due_within", bind="query-params")
        between = c3.date_input(t("requests_page.received_between"), value=(), key="requests_received",
                                format=ui.date_format(),
                                on_change=ui.bind_to_url("requests_received", "received", dates=True, many=True))
    received_from, received_to = (tuple(between) + (None, None))[:2] if between else (None, None)
    show_hidden = st.toggle(t("requests.show_hidden"), key="requests_show_hidden", bind="query-params")
    return dict(show_hidden=show_hidden, rights=rights, statuses=statuses, assignees=assignees, channels=channels,
                overdue_only=overdue_only, due_within=due_within, received_from=received_from,
                received_to=received_to)


def _detail(request_id: str, as_of, due_soon_days: int) -> None:
    row = ui.linked_row(ui.query("request_detail", request_id=request_id, as_of=as_of, due_soon_days=due_soon_days),
                        "requests_page.not_found", request_id=request_id)
    if row is None:
        return
    with st.container(border=True, key="request_detail"):
        st.subheader(t("requests_page.detail", request_id=ui.md(request_id)))
        _clock(row)
        left, right = st.columns(2)
        with left:
            _deadline_and_timeline(row, request_id)
        with right:
            _subject(row, request_id, as_of)


def _clock(row: dict) -> None:
    """Where the request stands on the page's date, in words: overdue since N days, or N days left."""
    if not row["is_open"]:
        st.caption(t("requests_page.closed_on", status=ui.coded("request_status", row["status"])))
        return
    days = row["days_left"]
    one = "_one" if abs(days) == 1 else ""
    text = (t(f"requests_page.overdue_since{one}", days=ui.fmt_int(-days)) if days < 0 else
            t("requests_page.due_today") if days == 0 else t(f"requests_page.days_left{one}", days=ui.fmt_int(days)))
    {"overdue": st.error, "due_soon": st.warning}.get(row["clock"], st.success)(
        text, icon=":material/timer:")


def _deadline_and_timeline(row: dict, request_id: str) -> None:
    """How the deadline was computed (each day it rolled over, and why) and what happened when."""
    st.markdown(f"**{t('requests_page.deadline_calc')}**")
    lines = [t("requests_page.raw_due", date=ui.fmt_date(row["raw_due"]))]
    lines += [t("requests_page.moved", date=ui.fmt_date(day),
                reason=deadlines.holiday_name(day, ui.lang()) if reason == "holiday" else t(f"calendar.{reason}"))
              for day, reason in deadlines.explain_roll(row["raw_due"]).skipped]
    lines.append(t("requests_page.due", date=ui.fmt_date(row["due"])))
    if row["extension"] not in (None, "none"):  # only a request that was extended has an extended deadline
        lines.append(t("requests_page.extended", date=ui.fmt_date(row["extended_due"]),
                       status=ui.coded("extension", row["extension"])))
    st.markdown("\n".join(f"- {line}" for line in lines))
    st.markdown(f"**{t('requests_page.timeline')}**")
    timeline = ui.query("request_timeline", request_id=request_id)
    ui.show_table(ui.translate(timeline.with_columns(ui.as_text(timeline["occurred_at"], ui.fmt_moment)),
                               event="event"))


def _subject(row: dict, request_id: str, as_of) -> None:
    """The data subject: who, what the systems still hold after an erasure, their footprint, and the
    Art. 15 / Art. 20 exports that answer the request."""
    st.markdown(f"**{t('requests_page.subject')}**")
    if not ui.sees_personal_data():  # who it is and what the systems hold of them: not a figure to guess at
        st.caption(t("app.not_for_role"))
    elif not row["contact_id"]:  # a representative named no one the systems know, or the person was erased
        st.caption(t("requests_page.no_subject"))
    else:  # source values are text, never Markdown (a name could hold a link or an image)
        st.text("\n".join(filter(None, [" ".join(str(row[c]) for c in ("first_name", "last_name") if row[c]),
                                         row["email"]])))
    left_behind = ui.query("erasure_findings", as_of=as_of, request_id=request_id)
    if left_behind.height:  # R3.6: completed, yet the systems still hold the subject's data
        st.error(t("requests_page.erasure_open", items=ui.fmt_int(left_behind.height),
                   systems=", ".join(ui.coded("system", s) for s in left_behind["system"].unique().sort())),
                 icon=":material/error:")
        ui.show_table(ui.translate(left_behind.select("system", "record_type", "record_id", "category"),
                                   system="system", record_type="record", category="category"))
    if row["right"] == "erasure":
        _erasure_proof(ui.query("erasure_proofs", request_id=request_id))
    if row["contact_id"]:
        _restricted(row["contact_id"], as_of)
    if not ui.sees_personal_data() or not row["contact_id"]:
        return
    footprint = ui.query("subject_footprint", contact_id=row["contact_id"]).row(0, named=True)
    st.markdown(f"**{t('requests_page.footprint')}**")
    cols = st.columns(3)
    for i, key in enumerate(("tickets", "contracts", "invoices", "consents", "holds", "requests")):
        label = t("requests_page.other_requests") if key == "requests" else t(f"requests_page.{key}")
        cols[i % 3].metric(label, ui.fmt_int(footprint[key]))
    identities = ui.query("subject_identities", contact_id=row["contact_id"])  # every system, under which id
    if identities.height:
        st.caption(t("requests_page.identities"))
        st.text("\n".join(f"{r['source']}: {r['source_contact_id']}" for r in identities.iter_rows(named=True)))
    # Answering the request: the subject's data as an Art. 15 package or, for portability, Art. 20 JSON.
    kinds = ("portability", "subject_access") if row["right"] == "portability" else ("subject_access",)
    past = ui.query("subject_past_retention", contact_id=row["contact_id"], as_of=as_of).row(0, named=True)
    if past["records"]:  # before it is sent: the letter would name dates the company has let pass
        st.warning(t("requests_page.art15_past_retention", records=ui.fmt_int(past["records"]),
                     earliest=ui.fmt_date(past["earliest"])), icon=":material/warning:")
    received = row["received_date"].isoformat() if row.get("received_date") else None
    for kind in kinds:
        ui.export_button(kind, {"contact_id": row["contact_id"], "lang": ui.lang(), "request_id": request_id,
                                "received": received}, key=f"{kind}_{request_id}")


def _erasure_proof(proofs: pl.DataFrame) -> None:
    """Which systems confirm an erasure request was carried out, and when, from each
    system's own record (a task Zammad has forgotten is still in the cockpit's log)."""
    if proofs.is_empty():  # not completed yet: nothing to prove
        return
    st.markdown(f"**{t('requests_page.erasure_proof')}**")
    tasks = proofs.filter(pl.col("task_id").is_not_null())
    if tasks.is_empty():
        st.warning(t("requests_page.proof_none"), icon=":material/help:")
        return
    lines = []
    for p in tasks.iter_rows(named=True):
        done = p["state"] == "completed"
        line = t(f"requests_page.proof_{p['state']}", system=ui.coded("system", p["system"]), task=ui.md(p["task_id"]),
                 moment=ui.fmt_moment(p["completed_at"] if done else p["created_at"]))
        if p["last_seen_at"] is not None:
            line += " – " + t("requests_page.proof_ledger_only", moment=ui.fmt_moment(p["last_seen_at"]))
        lines.append(f"- {line}" if done else f"- :red[{line}]")
    st.markdown("\n".join(lines))


def _erasure_proofs() -> None:
    """The erasure proof of every completed erasure request, for the accountability file."""
    proofs = ui.query("erasure_proofs", request_id=None)
    if proofs.is_empty():
        return

    def draw() -> None:
        st.caption(t("requests_page.proofs_help"))
        ui.list_export("erasure_proofs", "loeschnachweise.csv", key="proofs_csv", total=proofs.height,
                       request_id=None)
        ui.show_table(ui.with_moments(proofs, ("created_at", "completed_at", "last_seen_at")),
                      list_name="erasure_proofs")

    ui.folded(t("requests_page.proofs", count=ui.fmt_int(proofs["request_id"].n_unique())), "requests_proofs_open",
              draw)


def _restricted(contact_id: str, as_of) -> None:
    """Section 5: what an erasure request restricts instead of erasing (a statute obliges keeping it),
    and until when."""
    restricted = ui.query("subject_restricted", contact_id=contact_id, as_of=as_of)
    if restricted.is_empty():
        return
    key = "requests_page.restricted_one" if restricted.height == 1 else "requests_page.restricted_many"
    st.info(t(key, items=ui.fmt_int(restricted.height)), icon=":material/lock_clock:")
    ui.show_table(ui.translate(restricted, system="system", record_type="record", category="category"))


def render() -> None:
    st.title(t("requests.title"))
    ui.rows_set_aside("anfragen")  # rows the snapshot set aside are missing here: say so
    due_soon_days = ui.policy().settings.due_soon_days
    as_of = ui.as_of_input("requests_as_of")
    _figures(as_of, due_soon_days)
    _answered(as_of, due_soon_days)
    filters = _filters()
    _charts(as_of, due_soon_days, filters)

    st.subheader(t("requests.queue"))
    params = dict(as_of=as_of, due_soon_days=due_soon_days, **filters)
    page = ui.query_page("request_queue", QUEUE_LIMIT, **params)
    ui.list_export("request_queue", f"betroffenenanfragen_{as_of.isoformat()}.csv", key="requests_csv",
                   total=page.total, **params)
    ui.deadlines_calendar(key="requests_ics")
    event = ui.show_table(page.frame, total=page.total, key="requests_queue", list_name="request_queue",
                          empty="requests_page.queue_empty")
    selected = ui.selected_in_url(event, page.frame["request_id"].to_list(), "request", "requests_queue")
    if selected:  # right under the list it was chosen from; a link or a reload opens it again, in view
        _detail(selected, as_of, due_soon_days)
        ui.bring_into_view("request_detail", f"request:{selected}")
    elif not page.frame.is_empty():
        st.caption(t("requests_page.select_hint"))
    _erasures_not_carried_out(as_of, due_soon_days)
    _erasure_proofs()


def _answered(as_of, due_soon_days: int) -> None:
    """R1.9: the answered requests that make up the "answered on time, 90 days" figure, right under the
    figures when switched on; a click on that tile of the overview switches them on (``?answered=1``)."""
    on_url = ui.bind_to_url("requests_show_answered", "answered", flag=True)
    if not st.toggle(t("requests_page.show_answered"), key="requests_show_answered", on_change=on_url):
        return
    answered = ui.query("requests_answered", as_of=as_of, due_soon_days=due_soon_days)
    with st.container(border=True):
        st.markdown("**" + t("requests_page.answered", count=ui.fmt_int(answered.height),
                               on_time=ui.fmt_int(answered["answered_on_time"].sum())) + "**")
        on_time = pl.when(pl.col("answered_on_time")).then(pl.lit(t("app.yes"))).otherwise(pl.lit(t("app.no")))
        ui.show_table(ui.translate(answered.with_columns(on_time.alias("answered_on_time")), right="right"),
                      titles={"answered_on_time": "col.on_time"},
                      empty="requests_page.answered_empty")


def _erasures_not_carried_out(as_of, due_soon_days: int) -> None:
    """R3.6: completed erasure requests whose data is still in the systems; not in the open queue, so
    listed here, each opening its drill-down."""
    findings = ui.query("erasure_findings", as_of=as_of, request_id=None)
    if findings.is_empty():
        return
    per_request = findings.group_by("request_id", maintain_order=True).agg(
        pl.col("erasure_date").first(), pl.len().alias("items"))
    st.subheader(t("requests_page.erasures_open", count=ui.fmt_int(per_request.height)))
    st.caption(t("retention.erasure_open_help", days=ui.policy().settings.erasure_grace_days))
    event = ui.show_table(per_request, key="requests_erasures",
                          titles={"items": "requests_page.items_left"})
    rows = event.selection.rows if event is not None else []
    if rows:
        _detail(per_request["request_id"][rows[0]], as_of, due_soon_days)


render()
