"""The statutory deadlines as a calendar (iCalendar, RFC 5545): one event per open request deadline
(all-day, the binding deadline of R1.6) and per running breach clock (the exact 72-hour instant, R2.2),
each with a reminder.

UIDs are made from the request or incident id, so importing a newer file updates the events instead of
adding copies; a deadline that is met simply no longer appears. Titles carry the right or the word
"Datenpanne" and the id, never a subject's name. The Betroffenenanfragen and Datenpannen pages offer the
file (an audited export), and the DPO's digest attaches it. Plain Python, no Streamlit import.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse

import duckdb
import icalendar

from dashboard import data
from dashboard.deadlines import BERLIN
from dashboard.i18n import code_labels, label
from dashboard.policy import Settings

PRODID = "-//aelvirionek//DSGVO-Cockpit//DE"
UID_DOMAIN = "dsgvo-cockpit.aelvirionek"
REQUEST_REMINDER = dt.timedelta(days=2)  # before the all-day deadline starts
BREACH_REMINDER = dt.timedelta(hours=12)  # before the 72 hours end
# The queue the page shows by default (R1.8: open, hidden ones left out), every clock.
QUEUE = dict(show_hidden=False, rights=[], statuses=[], assignees=[], channels=[], overdue_only=False,
             due_within=None, received_from=None, received_to=None)


def open_requests(con: duckdb.DuckDBPyConnection, as_of: dt.date, settings: Settings) -> list[dict]:
    """The work queue of ``as_of`` as the Betroffenenanfragen page shows it without filters."""
    frame = data.run_page(con, "request_queue", None, as_of=as_of, due_soon_days=settings.due_soon_days,
                          **QUEUE).frame
    return frame.to_dicts()


def running_breaches(con: duckdb.DuckDBPyConnection, now: dt.datetime, settings: Settings) -> list[dict]:
    """Confirmed breaches whose authority notification is still outstanding at ``now`` (open, warning,
    overdue), with their deadline and hours left (negative when overdue)."""
    frame = data.run(con, "incident_register", as_of=now, warning_hours=settings.breach_warning_hours,
                     clocks=["overdue", "warning", "open"], window_months=None)
    return frame.select("incident_id", "clock", "hours_left", "hours_late", "notification_deadline").to_dicts()


def link(base_url: str | None, page: str, param: str, value: str, lang: str) -> str | None:
    """A deep link into the cockpit (the page opens with that request or incident), or None without a base."""
    if not base_url:
        return None
    query = {param: value} | ({"lang": lang} if lang != "de" else {})
    return f"{base_url.rstrip('/')}/{page}?{urllib.parse.urlencode(query)}"


def build(con: duckdb.DuckDBPyConnection, now: dt.datetime, settings: Settings, lang: str = "de",
          base_url: str | None = None) -> bytes:
    """The calendar of every open request deadline and running breach clock at ``now``."""
    as_of = now.astimezone(BERLIN).date()
    rights = code_labels("right", lang)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", label("calendar_ics.name", lang))
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    for request in open_requests(con, as_of, settings):
        cal.add_component(_event(
            f"request-{request['request_id']}", stamp, request["deadline"],  # a DATE: an all-day event
            request["deadline"] + dt.timedelta(days=1),
            label("calendar_ics.request", lang, right=rights.get(request["right"], request["right"]),
                  request_id=request["request_id"]),
            link(base_url, "anfragen", "request", request["request_id"], lang), REQUEST_REMINDER))
    for breach in running_breaches(con, now, settings):
        deadline = breach["notification_deadline"].astimezone(dt.UTC)
        cal.add_component(_event(
            f"breach-{breach['incident_id']}", stamp, deadline, deadline + dt.timedelta(minutes=15),
            label("calendar_ics.breach", lang, incident_id=breach["incident_id"]),
            link(base_url, "datenpannen", "incident", breach["incident_id"], lang), BREACH_REMINDER))
    return cal.to_ical()


def _event(key: str, stamp: dt.datetime, start, end, summary: str, url: str | None,
           reminder: dt.timedelta) -> icalendar.Event:
    """One deadline: its stable UID, the link back into the cockpit, a reminder ``reminder`` before it."""
    event = icalendar.Event()
    event.add("uid", f"{key}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    if url:
        event.add("url", url)
        event.add("description", url)
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -reminder)
    alarm.add("description", summary)
    event.add_component(alarm)
    return event
