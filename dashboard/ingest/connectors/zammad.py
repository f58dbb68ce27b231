"""Zammad (PostgreSQL): customers, tickets and ticket attachments, as Zammad stores them.

Facts from zammad/zammad (db/migrate/20120101000001_create_base.rb, 20120101000010_create_ticket.rb,
db/seeds/ticket_state_types.rb, app/models/ticket/sets_close_time.rb):

- Data subjects are ``users`` with the role "Customer" (``roles_users`` -> ``roles``); agents are not.
  Names and e-mail default to '' (a customer created from an inbound e-mail often has no name).
- A ticket's state has a state type: new, open, pending reminder, pending action, closed, merged,
  removed (newer versions add pending review and delegated). ``close_at`` keeps only the *first*
  close; ``last_close_at`` is set again on every close, so a reopened and re-closed ticket's
  retention clock starts at ``last_close_at``. A merged or removed ticket never passes through a
  closed state: its clock starts at its last update (the merge or removal).
- Attachments are ``stores`` rows of the store objects ``Ticket::Article`` and
  ``Ticket::Article::Mail`` (the raw .eml copy of an inbound mail); ``o_id`` is the article and
  ``size`` is text. The file name is read inside PostgreSQL only to classify the file; it does not
  leave the database. Message bodies (``ticket_articles.body``) are never read.
- Timestamps are UTC in ``timestamp without time zone`` (``timezone`` setting for other setups).
"""

from __future__ import annotations

import logging

from dashboard import helpdesk_rules
from dashboard.ingest.config import TableSource
from dashboard.ingest.connectors import zammad_erasure, zammad_register
from dashboard.ingest.connectors.catalogue import readable_columns
from dashboard.ingest.connectors.helpdesk import KINDS, STATUS, ending
from dashboard.ingest.connectors.mapping import check_mapping
from dashboard.ingest.postgres import stream_query
from dashboard.sqltext import identifier, literal

log = logging.getLogger(__name__)

FEEDS = ("contacts", "tickets", "attachments", *zammad_register.FEEDS, *zammad_erasure.FEEDS)

REQUIRES: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "users": ("id", "firstname", "lastname", "email", "phone", "mobile", "street", "zip", "city",
                  "created_at"),
        "roles_users": ("user_id", "role_id"),
        "roles": ("id", "name"),
    },
    "tickets": {
        "tickets": ("id", "customer_id", "state_id", "group_id", "created_at", "updated_at", "close_at",
                    "last_close_at", "article_count"),
        "ticket_states": ("id", "state_type_id"),
        "ticket_state_types": ("id", "name"),
        "groups": ("id", "name"),
    },
    "attachments": {
        "stores": ("id", "store_object_id", "o_id", "size", "filename"),
        "store_objects": ("id", "name"),
        "ticket_articles": ("id", "ticket_id"),
    },
    **zammad_register.REQUIRES,
    **zammad_erasure.REQUIRES,
}
# The scheduler's jobs: the helpdesk's own deletion rule (dashboard.helpdesk_rules), read beside tickets.
JOBS = ("name", "condition", "perform", "active", "last_run_at", "processed")

# What incremental refresh watches per table: relations whose updated_at Zammad sets on every change
# the connector reads (a merge touches the moved articles first: app/models/ticket.rb merge_to); jobs,
# because the deletion rule is read with tickets. Not contacts: a customer's roles live in roles_users,
# which has no updated_at. Not the register: it is small, and its history has no updated_at worth trusting.
# Not deletion_tasks: every read appends to the deletion ledger.
WATCH = {
    "tickets": ("tickets", "ticket_states", "ticket_state_types", "groups", "jobs"),
    "attachments": ("stores", "store_objects", "ticket_articles"),
}

ARTICLE_OBJECTS = ("Ticket::Article", "Ticket::Article::Mail")


def requires(ts: TableSource) -> dict[str, tuple[str, ...]]:
    return REQUIRES[ts.table]


def check_settings(ts: TableSource) -> None:
    check_mapping(ts, "categories", "tickets", "category")
    zammad_register.settings(ts)


def stage(con, cur, ts: TableSource, table, target: str) -> None:
    schema = ts.settings.get("schema", "public")
    if ts.table in zammad_register.FEEDS:
        zammad_register.stage(con, cur, ts, ts.table, target, schema)
        return
    if ts.table in zammad_erasure.FEEDS:
        zammad_erasure.stage(con, cur, ts, target, schema)
        return
    stream_query(con, cur, ts, table, target, sql(ts))
    if ts.table == "tickets":
        deletion_rules(con, cur, ts, schema, target)


def report(cur, ts: TableSource, schema: str) -> list[tuple[bool, str]]:
    """``sources check`` for a register table: the group, each attribute with its type, the tags."""
    if ts.table not in zammad_register.FEEDS:
        return []
    return zammad_register.report(cur, ts, ts.table, schema)


def deletion_rules(con, cur, ts: TableSource, schema: str, target: str) -> None:
    """The scheduler's ticket-deletion jobs as findings (``deletion_rule`` with the rule as JSON, one per
    job); none at all, or jobs the role may not read, are findings too. The build holds each rule
    against the policy (``deletion_rule_differs``)."""
    def finding(code: str, subject: str) -> None:
        con.execute(f"INSERT INTO {target}_findings VALUES (?, ?, ?)", [ts.source, code, subject])

    readable = readable_columns(cur, schema, "jobs")
    if not set(JOBS) <= readable:
        finding("deletion_rule_unchecked", ", ".join(c for c in JOBS if c not in readable))
        return
    where = " WHERE object = 'Ticket'" if "object" in readable else ""
    cur.execute(f"SELECT name, condition, perform, active, {_local(ts, 'last_run_at')}, processed "
                f"FROM {identifier(schema)}.jobs{where} ORDER BY name")
    rules = 0
    for name, condition, perform, active, last_run, processed in cur.fetchall():
        try:
            rule = helpdesk_rules.parse_job(name, condition, perform, active, last_run, processed)
        except helpdesk_rules.Unreadable as exc:
            finding("deletion_rule_unreadable", f"{name}: {exc}")
            continue
        if rule is not None:
            rules += rule.active
            finding("deletion_rule", rule.to_json())
    if not rules:  # none active: the cockpit's radar is the only safeguard
        finding("deletion_rule_none", "")


def sql(ts: TableSource) -> str:
    """The PostgreSQL query that reads ``ts.table`` from Zammad's own tables."""
    return {"contacts": _contacts, "tickets": _tickets, "attachments": _attachments}[ts.table](ts)


def _local(ts: TableSource, column: str) -> str:
    """Zammad's naive timestamps, in the configured zone (UTC by default)."""
    return f"({column} AT TIME ZONE {literal(ts.timezone)})"


def _text(column: str) -> str:
    return f"NULLIF(btrim({column}), '')"  # Zammad defaults names and e-mail to ''


def _schema(ts: TableSource) -> str:
    return identifier(ts.settings.get("schema", "public"))


def _contacts(ts: TableSource) -> str:
    s, role = _schema(ts), literal(ts.settings.get("customer_role", "Customer"))
    return f"""
        SELECT u.id::text AS contact_id, {_text('u.firstname')} AS first_name, {_text('u.lastname')} AS last_name,
               {_text('u.email')} AS email, coalesce({_text('u.phone')}, {_text('u.mobile')}) AS phone,
               {_text('u.street')} AS street, {_text('u.zip')} AS postal_code, {_text('u.city')} AS city,
               {_local(ts, 'u.created_at')} AS created_at
        FROM {s}.users u
        WHERE EXISTS (SELECT 1 FROM {s}.roles_users ru JOIN {s}.roles r ON r.id = ru.role_id
                      WHERE ru.user_id = u.id AND r.name = {role})"""


def _tickets(ts: TableSource) -> str:
    s = _schema(ts)
    status = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in STATUS.items())
    categories = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in ts.settings.get("categories", {}).items())
    category = f"CASE g.name {categories} ELSE 'other' END" if categories else "'other'"
    return f"""
        SELECT t.id::text AS ticket_id, t.customer_id::text AS contact_id,
               {_local(ts, 't.created_at')} AS opened_at,
               CASE st.name WHEN 'closed' THEN {_local(ts, 'coalesce(t.last_close_at, t.close_at, t.updated_at)')}
                            WHEN 'merged' THEN {_local(ts, 't.updated_at')}
                            WHEN 'removed' THEN {_local(ts, 't.updated_at')} END AS closed_at,
               CASE st.name {status} ELSE st.name END AS status,
               {category} AS category,
               t.article_count AS message_count
        FROM {s}.tickets t
        JOIN {s}.ticket_states ts ON ts.id = t.state_id
        JOIN {s}.ticket_state_types st ON st.id = ts.state_type_id
        LEFT JOIN {s}.groups g ON g.id = t.group_id"""


def _attachments(ts: TableSource) -> str:
    s = _schema(ts)
    kinds = " ".join(f"WHEN lower(s.filename) ~ {literal(ending(ends))} THEN {literal(kind)}" for kind, ends in KINDS)
    objects = ", ".join(literal(o) for o in ARTICLE_OBJECTS)
    return f"""
        SELECT s.id::text AS attachment_id, a.ticket_id::text AS ticket_id,
               CASE WHEN so.name = 'Ticket::Article::Mail' THEN 'mail_copy' {kinds} ELSE 'other' END AS kind,
               btrim(s.size) AS size_bytes
        FROM {s}.stores s
        JOIN {s}.store_objects so ON so.id = s.store_object_id AND so.name IN ({objects})
        JOIN {s}.ticket_articles a ON a.id = s.o_id"""
