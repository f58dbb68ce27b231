"""The privacy register read from Zammad, where the work arrives: requests, their pauses and events,
breaches with their affected records, and holds (docs/CONNECTORS.md, "Das Datenschutz-Register in
Zammad").

Facts from zammad/zammad (db/migrate/20120101000001_create_base.rb, 20120101000010_create_ticket.rb,
app/models/history.rb, app/models/tag.rb, app/models/link.rb, app/models/object_manager/attribute.rb):

- A request is a ticket of the group ``Datenschutz``, a breach one of ``Datenpannen`` (nested groups
  store the whole path, "Verwaltung::Datenschutz": the last part counts).
- The register's facts are object attributes, which Zammad's migration turns into real columns of
  ``tickets`` (select and input -> varchar, date -> date, datetime -> timestamp, boolean, integer).
  Every attribute is read as text and typed by the snapshot's validation, so a column with the wrong
  type (text in a datetime) rejects its row with a reason instead of stopping the build; an attribute
  that is missing or not granted is read as empty and named as a finding.
- ``histories`` holds every change: a state change is type ``updated`` with attribute ``state`` and the
  state ids in ``id_from``/``id_to`` (the names in ``value_from``/``value_to``); a group move is
  attribute ``group``; a tag is type ``added``/``removed`` with attribute ``tag`` and the tag's name in
  ``value_to``. Zammad ships no seed ids for history types, objects or attributes: they are joined by
  name. Tag names keep the case the agent typed.
- ``links`` join two objects (``link_objects`` names them) in either direction.
- ``last_close_at`` is not cleared when a ticket is reopened: it counts only while the state is closed.

Only times, ids, state and tag names, attribute values and agents' logins are read: never a title
of a request, a message body or a subject line.
"""

from __future__ import annotations

from dashboard.ingest.config import TableSource
from dashboard.ingest.connectors import register_shapes
from dashboard.ingest.connectors.catalogue import readable_columns
from dashboard.ingest.connectors.register_shapes import in_group
from dashboard.ingest.postgres import fetch_into
from dashboard.ingest.staging import in_zone
from dashboard.sqltext import identifier, literal

FEEDS = ("requests", "request_pauses", "request_events", "incidents", "incident_records", "holds")

# [sources.NAME.register]: every name the setup in docs/CONNECTORS.md creates, overridable.
DEFAULTS = {
    "requests_group": "Datenschutz",
    "incidents_group": "Datenpannen",
    "hold_tag": "loeschsperre",
    "extension_tag": "fristverlaengerung",
}

# canonical column -> (default attribute name, Zammad data type) per register table
ATTRIBUTES: dict[str, dict[str, tuple[str, str]]] = {
    "requests": {
        "right": ("dsgvo_right", "select"),
        "received": ("dsgvo_received", "date"),
        "outcome": ("dsgvo_outcome", "select"),
        "identity_verified": ("dsgvo_identity_verified", "date"),
        "extension_reason": ("dsgvo_extension_reason", "input"),
        "subject_email": ("dsgvo_subject_email", "input"),
    },
    "incidents": {
        "detected_at": ("incident_detected_at", "datetime"),
        "aware_at": ("incident_aware_at", "datetime"),
        "authority_notified_at": ("incident_notified_at", "datetime"),
        "subjects_informed_at": ("incident_subjects_informed_at", "datetime"),
        "contained_at": ("incident_contained_at", "datetime"),
        "type": ("incident_type", "select"),
        "risk": ("incident_risk", "select"),
        "art34_exemption": ("incident_art34_exemption", "select"),
        "personal_data": ("incident_personal_data", "boolean"),
        "subjects_affected": ("incident_subjects_affected", "integer"),
        "delay_reason": ("incident_delay_reason", "input"),
    },
}
# Catalogue checks (dashboard.ingest.connectors.check_relation): what each table needs besides attributes.
_TICKETS = ("id", "group_id", "state_id", "customer_id", "owner_id", "created_at", "updated_at", "last_close_at")
_STATES = {"ticket_states": ("id", "name", "state_type_id"), "ticket_state_types": ("id", "name"),
           "groups": ("id", "name")}
_HISTORY = {"histories": ("id", "history_type_id", "history_object_id", "history_attribute_id", "o_id", "id_from",
                          "id_to", "value_from", "value_to", "created_by_id", "created_at"),
            "history_types": ("id", "name"), "history_objects": ("id", "name"), "history_attributes": ("id", "name")}
_ARTICLES = {"ticket_articles": ("id", "ticket_id", "type_id", "sender_id", "created_at"),
             "ticket_article_types": ("id", "name"), "ticket_article_senders": ("id", "name")}
_TAGS = {"tags": ("id", "tag_item_id", "tag_object_id", "o_id", "created_by_id", "created_at"),
         "tag_items": ("id", "name"), "tag_objects": ("id", "name")}
_LOGINS = {"users": ("id", "login")}
REQUIRES: dict[str, dict[str, tuple[str, ...]]] = {
    "requests": {"tickets": _TICKETS, **_STATES, **_HISTORY, **_ARTICLES, **_TAGS, **_LOGINS},
    "request_pauses": {"tickets": _TICKETS, **_STATES, **_HISTORY},
    "request_events": {"tickets": _TICKETS, **_STATES, **_HISTORY, **_ARTICLES},
    "incidents": {"tickets": (*_TICKETS, "title"), **_STATES, **_HISTORY},
    "incident_records": {"tickets": _TICKETS, **_STATES,
                         "links": ("id", "link_object_source_id", "link_object_source_value",
                                   "link_object_target_id", "link_object_target_value"),
                         "link_objects": ("id", "name")},
    "holds": {"tickets": ("id",), **_HISTORY, **_TAGS, **_LOGINS},
}


def settings(ts: TableSource) -> dict[str, str]:
    """The register's names: the defaults, overridden by ``[sources.NAME.register]``."""
    return register_shapes.register_settings(ts, DEFAULTS, ATTRIBUTES, also={
        a for cols in ATTRIBUTES.values() for a, _t in cols.values()})


def attribute_names(ts: TableSource, table: str) -> dict[str, tuple[str, str]]:
    """canonical -> (ticket column, data type) of the attributes ``table`` reads."""
    return register_shapes.register_names(ts, table, ATTRIBUTES)


def stage(con, cur, ts: TableSource, table: str, target: str, schema: str) -> None:
    """Read what ``table`` needs from Zammad into DuckDB (``_reg_*``), then shape it into ``target``."""
    names = settings(ts)
    s = identifier(schema)
    group = names["incidents_group"] if table in ("incidents", "incident_records") else names["requests_group"]
    if table != "holds":
        _tickets(con, cur, ts, table, s, schema, group, target)
    if table in ("requests", "request_pauses", "request_events", "incidents", "holds"):
        _history(con, cur, ts, s, None if table == "holds" else group)
    if table in ("requests", "request_events"):
        _articles(con, cur, ts, s, group)
    if table in ("requests", "holds"):
        _tags(con, cur, ts, s)
        register_shapes.fetch_logins(con, cur, s, table)
    if table == "incident_records":
        fetch_into(con, cur, f"""
            SELECT l.id::text AS link_id, l.link_object_source_value::text AS source_id,
                   l.link_object_target_value::text AS target_id
            FROM {s}.links l JOIN {s}.link_objects so ON so.id = l.link_object_source_id AND so.name = 'Ticket'
            JOIN {s}.link_objects tobj ON tobj.id = l.link_object_target_id AND tobj.name = 'Ticket'""", "_reg_links")
    register_shapes.shape(con, table, target, vocabulary(names))
    if table == "request_pauses":  # where a state decides something
        _unknown_states(con, ts, target)
    register_shapes.drop_staged(con)


def vocabulary(names: dict[str, str]) -> register_shapes.Vocabulary:
    """Zammad's words: tags are the marks."""
    return register_shapes.Vocabulary(system="zammad", hold_mark=names["hold_tag"],
                                      extension_mark=names["extension_tag"],
                                      hold_reason=f"Zammad-Tag {names['hold_tag']}", unknown_user="Zammad-Benutzer ")


# Zammad's data types as the object manager records them; their columns' PostgreSQL types.
COLUMN_TYPES = {"select": ("character varying",), "input": ("character varying",), "date": ("date",),
                "datetime": ("timestamp without time zone",), "boolean": ("boolean",), "integer": ("integer",)}


def report(cur, ts: TableSource, table: str, schema: str) -> list[tuple[bool, str]]:
    """``sources check``: the group exists, each attribute the table reads exists with its type and is
    granted, the tags (a tag not used yet is fine: Zammad creates it on first use)."""
    names = settings(ts)
    s = identifier(schema)
    group = names["incidents_group"] if table in ("incidents", "incident_records") else names["requests_group"]
    lines = []
    cur.execute(f"SELECT count(*) FROM {s}.groups g WHERE {in_group('g.name', group)}")
    found = cur.fetchone()[0]
    lines.append((bool(found), f"group {group}" + ("" if found else " not found (docs/CONNECTORS.md, step 1)")))
    wanted = attribute_names(ts, table)
    if wanted:
        cur.execute(f"SELECT a.name, a.data_type FROM {s}.object_manager_attributes a "
                    f"JOIN {s}.object_lookups l ON l.id = a.object_lookup_id AND l.name = 'Ticket'")
        declared = dict(cur.fetchall())
        # The catalogue, not information_schema: that one hides the columns the role may not read.
        cur.execute("SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_catalog.pg_attribute a "
                    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'tickets' AND a.attnum > 0 "
                    "AND NOT a.attisdropped", parameters=(schema,))
        columns = dict(cur.fetchall())
        readable = readable_columns(cur, schema, "tickets")
        for _canonical, (column, kind) in wanted.items():
            if column not in declared:
                lines.append((False, f"attribute {column} ({kind}) missing"))
            elif declared[column] != kind:
                lines.append((False, f"attribute {column} is {declared[column]}, should be {kind}"))
            elif column not in columns:
                lines.append((False, f"attribute {column}: not in the database yet (Zammad: Update database)"))
            elif columns[column] not in COLUMN_TYPES[kind]:
                lines.append((False, f"attribute {column}: column type {columns[column]}, should be {kind}"))
            elif column not in readable:
                lines.append((False, f"attribute {column}: no SELECT grant (deploy/zammad-register-readonly.sql)"))
        if all(ok for ok, _ in lines):
            lines.append((True, f"attributes ({len(wanted)})"))
    if table in ("requests", "holds"):
        tag = names["extension_tag"] if table == "requests" else names["hold_tag"]
        cur.execute(f"SELECT count(*) FROM {s}.tag_items WHERE lower(name) = lower($1)", parameters=(tag,))
        used = cur.fetchone()[0]
        lines.append((True, f"tag {tag}" + ("" if used else " (not used yet)")))
    return lines


def _local(ts: TableSource, column: str) -> str:
    return f"({column} AT TIME ZONE {literal(ts.timezone)})"


def _tickets(con, cur, ts: TableSource, table: str, s: str, schema: str, group: str, target: str) -> None:
    """The group's tickets with their state type and every attribute as text (missing ones empty)."""
    wanted = attribute_names(ts, table)
    readable = readable_columns(cur, schema, "tickets")
    attrs = []
    for canonical, (column, kind) in wanted.items():
        if column in readable:
            attrs.append(f"NULLIF(btrim(t.{identifier(column)}::text), '') AS {identifier('a_' + canonical)}")
        else:
            attrs.append(f"NULL::text AS {identifier('a_' + canonical)}")
            if table in ("requests", "incidents"):  # once, not for every table that reads the attribute
                con.execute(f"INSERT INTO {target}_findings VALUES (?, 'register_attribute_missing', ?)",
                            [ts.source, f"{column} ({kind})"])
    title = ", t.title" if table == "incidents" else ""
    fetch_into(con, cur, f"""
        SELECT t.id::text AS ticket_id, t.customer_id::text AS customer_id,
               NULLIF(t.owner_id, 1)::text AS owner_id{title},
               {_local(ts, 't.created_at')} AS created_at, {_local(ts, 't.updated_at')} AS updated_at,
               {_local(ts, 't.last_close_at')} AS last_close_at, st.name AS state_type
               {''.join(', ' + a for a in attrs)}
        FROM {s}.tickets t
        JOIN {s}.groups g ON g.id = t.group_id AND {in_group('g.name', group)}
        JOIN {s}.ticket_states ts ON ts.id = t.state_id
        JOIN {s}.ticket_state_types st ON st.id = ts.state_type_id
        WHERE st.name <> 'removed'""", "_reg_tickets")
    for canonical, (_column, kind) in wanted.items():
        if kind == "datetime":  # stored without an offset, like every Zammad timestamp
            column = identifier("a_" + canonical)
            con.execute(f"UPDATE _reg_tickets SET {column} = {in_zone(column, ts.timezone)}")
    con.execute("CREATE OR REPLACE TEMP TABLE _reg_group AS SELECT $g AS name", {"g": group})


def _history(con, cur, ts: TableSource, s: str, group: str | None) -> None:
    """Ticket history the register needs, and no other: state changes (with the state types, by id or, for
    a state deleted since, by name), moves into a group, tags, merges and the Art. 34 exemption's
    changes, of the group's tickets (``group``), or for holds the tag changes of every ticket."""
    exemption = literal(ts.settings.get("register", {}).get("art34_exemption", ATTRIBUTES["incidents"][
        "art34_exemption"][0]))
    scope = (f"h.o_id IN (SELECT t.id FROM {s}.tickets t JOIN {s}.groups g ON g.id = t.group_id "
             f"WHERE {in_group('g.name', group)}) AND (ha.name IN ('state', 'group', 'tag', {exemption}) "
             "OR ht.name = 'merged_into')") if group else (
        f"ha.name = 'tag' AND lower(coalesce(h.value_to, h.value_from)) = {literal(settings(ts)['hold_tag'].lower())}")
    state_type = (f"(SELECT stt.name FROM {s}.ticket_states x JOIN {s}.ticket_state_types stt "
                  "ON stt.id = x.state_type_id WHERE x.{key} = h.{value})")
    fetch_into(con, cur, f"""
        SELECT h.id::text AS history_id, h.o_id::text AS ticket_id, ht.name AS type,
               CASE WHEN ha.name = {exemption} THEN 'art34_exemption' ELSE ha.name END AS attribute,
               h.value_from, h.value_to, h.created_by_id::text AS by_id, {_local(ts, 'h.created_at')} AS moment,
               CASE WHEN ha.name = 'state' THEN coalesce({state_type.format(key='id', value='id_to')},
                   {state_type.format(key='name', value='value_to')}) END AS to_type,
               CASE WHEN ha.name = 'state' THEN coalesce({state_type.format(key='id', value='id_from')},
                   {state_type.format(key='name', value='value_from')}) END AS from_type
        FROM {s}.histories h
        JOIN {s}.history_types ht ON ht.id = h.history_type_id
        JOIN {s}.history_objects ho ON ho.id = h.history_object_id AND ho.name = 'Ticket'
        LEFT JOIN {s}.history_attributes ha ON ha.id = h.history_attribute_id
        WHERE {scope}""", "_reg_history")


def _articles(con, cur, ts: TableSource, s: str, group: str) -> None:
    """The group's messages: time, type and who sent it (never a body or a subject line)."""
    fetch_into(con, cur, f"""
        SELECT a.id::text AS article_id, a.ticket_id::text AS ticket_id, ty.name AS type, se.name AS sender,
               {_local(ts, 'a.created_at')} AS moment
        FROM {s}.ticket_articles a
        JOIN {s}.tickets t ON t.id = a.ticket_id JOIN {s}.groups g ON g.id = t.group_id AND {in_group('g.name', group)}
        JOIN {s}.ticket_article_types ty ON ty.id = a.type_id
        JOIN {s}.ticket_article_senders se ON se.id = a.sender_id""", "_reg_articles")


def _tags(con, cur, ts: TableSource, s: str) -> None:
    """Tags a ticket carries now (a tag whose history is gone still counts from when it was set)."""
    names = settings(ts)
    wanted = ", ".join(literal(names[k].lower()) for k in ("hold_tag", "extension_tag"))
    fetch_into(con, cur, f"""
        SELECT g.o_id::text AS ticket_id, i.name AS tag, g.created_by_id::text AS by_id,
               {_local(ts, 'g.created_at')} AS moment
        FROM {s}.tags g JOIN {s}.tag_items i ON i.id = g.tag_item_id AND lower(i.name) IN ({wanted})
        JOIN {s}.tag_objects o ON o.id = g.tag_object_id AND o.name = 'Ticket'""", "_reg_tags")


def _unknown_states(con, ts: TableSource, target: str) -> None:
    """A history row naming a state that no longer exists is read as "not paused" and named."""
    con.execute(f"""INSERT INTO {target}_findings
                    SELECT DISTINCT $s, 'register_state_unknown', 'Ticket ' || ticket_id || ': ' || value_to
                    FROM _reg_history WHERE attribute = 'state' AND to_type IS NULL AND value_to IS NOT NULL""",
                {"s": ts.source})
