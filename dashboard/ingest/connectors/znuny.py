"""Znuny (the maintained OTRS community edition, PostgreSQL): customers, tickets and ticket attachments;
the privacy register from its dynamic fields is ``znuny_register``.

Facts from znuny/Znuny (scripts/database/schema.postgresql.sql, initial_insert.postgresql.sql,
Kernel/System/Ticket.pm, Kernel/System/Ticket/TicketSearch.pm):

- Data subjects are ``customer_user`` rows; a ticket names its customer by ``ticket.customer_user_id`` =
  ``customer_user.login`` (a text key, not an id). Agents (``users``) are not data subjects.
- A ticket's state has a state type (seeded: new, open, closed, pending reminder, pending auto, removed,
  merged). There is no close column: the close time is the last ``ticket_history`` entry of type
  NewTicket or StateUpdate that moved the ticket into a state of type closed (each history row keeps
  the state *after* the change), and counts only while the ticket is closed now; a reopened and
  re-closed ticket's clock starts at its last close. A merged or removed ticket is closed at its last
  change into that state (else its last change).
- ``archive_flag`` tickets are still tickets: archived is not deleted.
- Attachments are ``article_data_mime_attachment`` rows of the ticket's articles; ``content_size`` is
  text. The HTML version of a message body is kept as an inline ``text/html`` attachment: that is a
  body, not an attachment, and is never read. File names are evaluated inside PostgreSQL only; contents
  never leave it.
- Znuny writes every timestamp in its ``OTRSTimeZone`` (default UTC), without an offset: the source's
  ``timezone`` setting names it.
"""

from __future__ import annotations

from dashboard.ingest.config import TableSource
from dashboard.ingest.connectors import znuny_register
from dashboard.ingest.connectors.helpdesk import KINDS as FILE_KINDS
from dashboard.ingest.connectors.helpdesk import STATUS, ending
from dashboard.ingest.connectors.mapping import check_mapping
from dashboard.ingest.postgres import stream_query
from dashboard.sqltext import identifier, literal

FEEDS = ("contacts", "tickets", "attachments", *znuny_register.FEEDS)

REQUIRES: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "customer_user": ("login", "first_name", "last_name", "email", "phone", "mobile", "street", "zip", "city",
                          "create_time"),
    },
    "tickets": {
        "ticket": ("id", "customer_user_id", "ticket_state_id", "queue_id", "create_time", "change_time"),
        "ticket_state": ("id", "type_id"),
        "ticket_state_type": ("id", "name"),
        "queue": ("id", "name"),
        "ticket_history": ("ticket_id", "history_type_id", "state_id", "create_time"),
        "ticket_history_type": ("id", "name"),
        "article": ("id", "ticket_id"),
    },
    "attachments": {
        "article_data_mime_attachment": ("id", "article_id", "filename", "content_size", "content_type",
                                         "disposition"),
        "article": ("id", "ticket_id"),
    },
    **znuny_register.REQUIRES,
}
# What incremental refresh watches per table: Znuny sets change_time on every change it makes. Not
# contacts: a customer's data may come from an LDAP backend that does not touch the table. Not the register:
# it is small, and a dynamic field's value has no change time.
WATCH = {
    "tickets": ("ticket", "ticket_history", "queue", "ticket_state"),
    "attachments": ("article_data_mime_attachment", "article"),
}
CHANGED_COLUMN = "change_time"
# Content types -> attachment kind, for a file name without a known ending.
CONTENT_KINDS = (("mail_copy", "message/rfc822"), ("screenshot", "image/"), ("document", "application/pdf"),
                 ("log_file", "text/plain"))
# The history entries that set a ticket's state (Kernel/System/Ticket.pm: TicketCreate, TicketStateSet).
STATE_HISTORY = ("NewTicket", "StateUpdate")


def requires(ts: TableSource) -> dict[str, tuple[str, ...]]:
    return REQUIRES[ts.table]


def check_settings(ts: TableSource) -> None:
    check_mapping(ts, "categories", "tickets", "category")
    znuny_register.settings(ts)


def stage(con, cur, ts: TableSource, table, target: str) -> None:
    if ts.table in znuny_register.FEEDS:
        znuny_register.stage(con, cur, ts, ts.table, target, ts.settings.get("schema", "public"))
        return
    stream_query(con, cur, ts, table, target, sql(ts))


def report(cur, ts: TableSource, schema: str) -> list[tuple[bool, str]]:
    """``sources check`` for a register table: the queue, each dynamic field with its type."""
    if ts.table not in znuny_register.FEEDS:
        return []
    return znuny_register.report(cur, ts, ts.table, schema)


def sql(ts: TableSource) -> str:
    """The PostgreSQL query that reads ``ts.table`` from Znuny's own tables."""
    return {"contacts": _contacts, "tickets": _tickets, "attachments": _attachments}[ts.table](ts)


def _local(ts: TableSource, column: str) -> str:
    """Znuny's naive timestamps, in its OTRSTimeZone (the source's ``timezone``)."""
    return f"({column} AT TIME ZONE {literal(ts.timezone)})"


def _text(column: str) -> str:
    return f"NULLIF(btrim({column}), '')"


def _schema(ts: TableSource) -> str:
    return identifier(ts.settings.get("schema", "public"))


def _contacts(ts: TableSource) -> str:
    return f"""
        SELECT c.login AS contact_id, {_text('c.first_name')} AS first_name, {_text('c.last_name')} AS last_name,
               {_text('c.email')} AS email, coalesce({_text('c.phone')}, {_text('c.mobile')}) AS phone,
               {_text('c.street')} AS street, {_text('c.zip')} AS postal_code, {_text('c.city')} AS city,
               {_local(ts, 'c.create_time')} AS created_at
        FROM {_schema(ts)}.customer_user c"""


def _tickets(ts: TableSource) -> str:
    s = _schema(ts)
    status = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in STATUS.items())
    categories = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in ts.settings.get("categories", {}).items())
    category = f"CASE q.name {categories} ELSE 'other' END" if categories else "'other'"
    kinds = ", ".join(literal(k) for k in STATE_HISTORY)
    return f"""
        WITH moves AS (  -- every entry that set a ticket's state, with the type of the state it set
            SELECT h.ticket_id, h.create_time, st.name AS state_type
            FROM {s}.ticket_history h
            JOIN {s}.ticket_history_type ht ON ht.id = h.history_type_id AND ht.name IN ({kinds})
            JOIN {s}.ticket_state hs ON hs.id = h.state_id
            JOIN {s}.ticket_state_type st ON st.id = hs.type_id
        ), last_into AS (  -- the last time each ticket entered a state of each type
            SELECT ticket_id, state_type, max(create_time) AS entered FROM moves GROUP BY ticket_id, state_type
        ), messages AS (
            SELECT ticket_id, count(*) AS n FROM {s}.article GROUP BY ticket_id
        )
        SELECT t.id::text AS ticket_id, t.customer_user_id AS contact_id,
               {_local(ts, 't.create_time')} AS opened_at,
               CASE WHEN st.name IN ('closed', 'merged', 'removed')
                    THEN {_local(ts, 'coalesce(li.entered, t.change_time)')} END AS closed_at,
               CASE st.name {status} ELSE st.name END AS status,
               {category} AS category,
               coalesce(m.n, 0)::integer AS message_count
        FROM {s}.ticket t
        JOIN {s}.ticket_state ts ON ts.id = t.ticket_state_id
        JOIN {s}.ticket_state_type st ON st.id = ts.type_id
        LEFT JOIN {s}.queue q ON q.id = t.queue_id
        LEFT JOIN last_into li ON li.ticket_id = t.id AND li.state_type = st.name
        LEFT JOIN messages m ON m.ticket_id = t.id"""


def _attachments(ts: TableSource) -> str:
    s = _schema(ts)
    by_name = " ".join(f"WHEN lower(a.filename) ~ {literal(ending(ends))} THEN {literal(kind)}"
                       for kind, ends in FILE_KINDS)
    by_type = " ".join(f"WHEN lower(a.content_type) LIKE {literal(prefix + '%')} THEN {literal(kind)}"
                       for kind, prefix in CONTENT_KINDS)
    return f"""
        SELECT a.id::text AS attachment_id, ar.ticket_id::text AS ticket_id,
               CASE {by_name} {by_type} ELSE 'other' END AS kind,
               btrim(a.content_size) AS size_bytes
        FROM {s}.article_data_mime_attachment a
        JOIN {s}.article ar ON ar.id = a.article_id
        WHERE NOT (lower(coalesce(a.content_type, '')) LIKE 'text/html%'
                   AND lower(coalesce(a.disposition, 'inline')) = 'inline')"""
