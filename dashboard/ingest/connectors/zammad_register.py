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

from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.connectors.catalogue import readable_columns
from dashboard.ingest.postgres import fetch_into
from dashboard.ingest.staging import in_zone
from dashboard.sqltext import BERLIN_DATE, BERLIN_MIDNIGHT, identifier, literal

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
# Which attributes each fed table reads (pauses need the identity date, events the received date).
READS = {"requests": "requests", "request_pauses": "requests", "request_events": "requests",
         "incidents": "incidents"}

# Accepted besides the canonical codes: the article numbers a DPO may have used as option keys.
RIGHT_ALIASES = {"art15": "access", "art16": "rectification", "art17": "erasure", "art18": "restriction",
                 "art20": "portability", "art21": "objection"}
# The first article's type -> the request's channel (anything else, e.g. an agent's note for a letter).
CHANNELS = {"email": "email", "web": "web_form", "phone": "phone"}
OUTCOMES = ("completed", "rejected", "withdrawn")

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
    given = ts.settings.get("register", {})
    unknown = set(given) - set(DEFAULTS) - {a for cols in ATTRIBUTES.values() for a, _t in cols.values()} - {
        c for cols in ATTRIBUTES.values() for c in cols}
    if unknown:
        raise SourceError(f"{ts.describe()}: register: unknown setting {', '.join(sorted(unknown))}")
    return {**DEFAULTS, **{k: v for k, v in given.items() if k in DEFAULTS}}


def attribute_names(ts: TableSource, table: str) -> dict[str, tuple[str, str]]:
    """canonical -> (ticket column, data type) of the attributes ``table`` reads; a DPO who named an
    attribute differently says so as ``right = "dsgvo_recht"`` under ``[sources.NAME.register]``."""
    given = ts.settings.get("register", {})
    return {canonical: (given.get(canonical, name), kind)
            for canonical, (name, kind) in ATTRIBUTES.get(READS.get(table, ""), {}).items()}


def stage(con, cur, ts: TableSource, table: str, target: str, schema: str) -> None:
    """Read what ``table`` needs from Zammad into DuckDB (``_zr_*``), then shape it into ``target``."""
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
        _logins(con, cur, s, table)
    if table == "incident_records":
        fetch_into(con, cur, f"""
            SELECT l.id::text AS link_id, l.link_object_source_value::text AS source_id,
                   l.link_object_target_value::text AS target_id
            FROM {s}.links l JOIN {s}.link_objects so ON so.id = l.link_object_source_id AND so.name = 'Ticket'
            JOIN {s}.link_objects tobj ON tobj.id = l.link_object_target_id AND tobj.name = 'Ticket'""", "_zr_links")
    con.execute(f"CREATE TEMP TABLE {target} AS {SHAPES[table](names)}")
    if table == "request_pauses":  # where a state decides something
        _unknown_states(con, ts, target)
    for (name,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary "
                           "AND starts_with(table_name, '_zr_')").fetchall():
        con.execute(f"DROP TABLE {identifier(name)}")


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
    cur.execute(f"SELECT count(*) FROM {s}.groups g WHERE {_in_group('g.name', group)}")
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


def _in_group(column: str, group: str) -> str:
    """A group's name, or the last part of a nested group's path ("Verwaltung::Datenschutz")."""
    return f"({column} = {literal(group)} OR {column} LIKE {literal('%::' + group.replace('%', ''))})"


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
        JOIN {s}.groups g ON g.id = t.group_id AND {_in_group('g.name', group)}
        JOIN {s}.ticket_states ts ON ts.id = t.state_id
        JOIN {s}.ticket_state_types st ON st.id = ts.state_type_id
        WHERE st.name <> 'removed'""", "_zr_tickets")
    for canonical, (_column, kind) in wanted.items():
        if kind == "datetime":  # stored without an offset, like every Zammad timestamp
            column = identifier("a_" + canonical)
            con.execute(f"UPDATE _zr_tickets SET {column} = {in_zone(column, ts.timezone)}")
    con.execute("CREATE OR REPLACE TEMP TABLE _zr_group AS SELECT $g AS name", {"g": group})


def _history(con, cur, ts: TableSource, s: str, group: str | None) -> None:
    """Ticket history the register needs, and no other: state changes (with the state types, by id or, for
    a state deleted since, by name), moves into a group, tags, merges and the Art. 34 exemption's
    changes, of the group's tickets (``group``), or for holds the tag changes of every ticket."""
    exemption = literal(ts.settings.get("register", {}).get("art34_exemption", ATTRIBUTES["incidents"][
        "art34_exemption"][0]))
    scope = (f"h.o_id IN (SELECT t.id FROM {s}.tickets t JOIN {s}.groups g ON g.id = t.group_id "
             f"WHERE {_in_group('g.name', group)}) AND (ha.name IN ('state', 'group', 'tag', {exemption}) "
             "OR ht.name = 'merged_into')") if group else (
        f"ha.name = 'tag' AND lower(coalesce(h.value_to, h.value_from)) = {literal(settings(ts)['hold_tag'].lower())}")
    state_type = (f"(SELECT stt.name FROM {s}.ticket_states x JOIN {s}.ticket_state_types stt "
                  "ON stt.id = x.state_type_id WHERE x.{key} = h.{value})")
    fetch_into(con, cur, f"""
        SELECT h.id::text AS history_id, h.o_id::text AS ticket_id, ht.name AS type, ha.name AS attribute,
               h.value_from, h.value_to, h.created_by_id::text AS by_id, {_local(ts, 'h.created_at')} AS moment,
               CASE WHEN ha.name = 'state' THEN coalesce({state_type.format(key='id', value='id_to')},
                   {state_type.format(key='name', value='value_to')}) END AS to_type,
               CASE WHEN ha.name = 'state' THEN coalesce({state_type.format(key='id', value='id_from')},
                   {state_type.format(key='name', value='value_from')}) END AS from_type
        FROM {s}.histories h
        JOIN {s}.history_types ht ON ht.id = h.history_type_id
        JOIN {s}.history_objects ho ON ho.id = h.history_object_id AND ho.name = 'Ticket'
        LEFT JOIN {s}.history_attributes ha ON ha.id = h.history_attribute_id
        WHERE {scope}""", "_zr_history")


def _logins(con, cur, s: str, table: str) -> None:
    """The logins of the agents a register names (a request's owner, who set a hold): those users only."""
    ids = ("SELECT owner_id AS id FROM _zr_tickets" if table == "requests" else
           "SELECT by_id FROM _zr_history WHERE type = 'added' UNION SELECT by_id FROM _zr_tags")
    wanted = [row[0] for row in con.sql(f"SELECT DISTINCT TRY_CAST(id AS BIGINT) FROM ({ids}) AS _i(id) "
                                        "WHERE TRY_CAST(id AS BIGINT) IS NOT NULL").fetchall()]
    listed = ", ".join(str(int(i)) for i in wanted) or "NULL"
    fetch_into(con, cur, f"SELECT id::text AS user_id, login FROM {s}.users WHERE id IN ({listed})", "_zr_logins")


def _articles(con, cur, ts: TableSource, s: str, group: str) -> None:
    """The group's messages: time, type and who sent it (never a body or a subject line)."""
    fetch_into(con, cur, f"""
        SELECT a.id::text AS article_id, a.ticket_id::text AS ticket_id, ty.name AS type, se.name AS sender,
               {_local(ts, 'a.created_at')} AS moment
        FROM {s}.ticket_articles a
        JOIN {s}.tickets t ON t.id = a.ticket_id JOIN {s}.groups g ON g.id = t.group_id AND {_in_group('g.name', group)}
        JOIN {s}.ticket_article_types ty ON ty.id = a.type_id
        JOIN {s}.ticket_article_senders se ON se.id = a.sender_id""", "_zr_articles")


def _tags(con, cur, ts: TableSource, s: str) -> None:
    """Tags a ticket carries now (a tag whose history is gone still counts from when it was set)."""
    names = settings(ts)
    wanted = ", ".join(literal(names[k].lower()) for k in ("hold_tag", "extension_tag"))
    fetch_into(con, cur, f"""
        SELECT g.o_id::text AS ticket_id, i.name AS tag, g.created_by_id::text AS by_id,
               {_local(ts, 'g.created_at')} AS moment
        FROM {s}.tags g JOIN {s}.tag_items i ON i.id = g.tag_item_id AND lower(i.name) IN ({wanted})
        JOIN {s}.tag_objects o ON o.id = g.tag_object_id AND o.name = 'Ticket'""", "_zr_tags")


def _unknown_states(con, ts: TableSource, target: str) -> None:
    """A history row naming a state that no longer exists is read as "not paused" and named."""
    con.execute(f"""INSERT INTO {target}_findings
                    SELECT DISTINCT $s, 'register_state_unknown', 'Ticket ' || ticket_id || ': ' || value_to
                    FROM _zr_history WHERE attribute = 'state' AND to_type IS NULL AND value_to IS NOT NULL""",
                {"s": ts.source})


# --- shaping, in DuckDB: one SELECT per canonical table ------------------------------------------

DATE_ATTRIBUTE = BERLIN_MIDNIGHT.format("TRY_CAST({} AS DATE)")  # a date attribute's moment


def _tag_added(tag: str) -> str:
    """The first time ``tag`` was added to each ticket (history first, else the tag's own row)."""
    return f"""
        SELECT ticket_id, min(moment) AS moment FROM (
            SELECT ticket_id, moment FROM _zr_history WHERE type = 'added' AND attribute = 'tag'
                   AND lower(value_to) = lower({literal(tag)})
            UNION ALL SELECT ticket_id, moment FROM _zr_tags WHERE lower(tag) = lower({literal(tag)}))
        GROUP BY ticket_id"""


def _closed_at() -> str:
    """R2.4b: closed moment the last close while the state type is closed; a merged ticket moment its merge."""
    return """CASE WHEN t.state_type = 'closed' THEN t.last_close_at
                   WHEN t.state_type = 'merged' THEN coalesce(
                       (SELECT max(h.moment) FROM _zr_history h
                        WHERE h.ticket_id = t.ticket_id AND h.type = 'merged_into'),
                       t.updated_at) END"""


def _requests(names: dict) -> str:
    aliases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in RIGHT_ALIASES.items())
    channels = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in CHANNELS.items())
    outcomes = ", ".join(literal(o) for o in OUTCOMES)
    return f"""
        WITH first_article AS (
            SELECT ticket_id, arg_min(type, (moment, article_id::BIGINT)) AS type FROM _zr_articles GROUP BY ticket_id
        ), extension AS ({_tag_added(names['extension_tag'])})
        SELECT t.ticket_id AS request_id, t.customer_id AS contact_id, t.a_subject_email AS subject_email,
               CASE lower(t.a_right) {aliases} ELSE lower(t.a_right) END AS "right",
               CASE f.type {channels} ELSE 'letter' END AS channel,
               coalesce({DATE_ATTRIBUTE.format('t.a_received')}, t.created_at) AS received_at,
               {DATE_ATTRIBUTE.format('t.a_identity_verified')} AS identity_verified_at,
               e.moment AS extension_notified_at, t.a_extension_reason AS extension_reason,
               CASE t.state_type WHEN 'new' THEN 'received' WHEN 'open' THEN 'in_progress'
                    WHEN 'delegated' THEN 'in_progress' WHEN 'merged' THEN 'duplicate'
                    WHEN 'closed' THEN CASE WHEN lower(t.a_outcome) IN ({outcomes}) THEN lower(t.a_outcome)
                                            ELSE 'completed' END
                    ELSE CASE WHEN t.state_type LIKE 'pending%' THEN 'paused' END END AS status,
               {_closed_at()} AS closed_at, NULL AS outcome, l.login AS assignee
        FROM _zr_tickets t
        LEFT JOIN first_article f USING (ticket_id)
        LEFT JOIN extension e USING (ticket_id)
        LEFT JOIN _zr_logins l ON l.user_id = t.owner_id
        ORDER BY t.ticket_id::BIGINT"""


def _segments() -> str:
    """Each request's states as intervals: before the first change the first change's old state (else the
    state it is in now), then each change's new state until the next change."""
    return """
        changes AS (
            SELECT ticket_id, history_id, moment, from_type, to_type,
                   row_number() OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS n
            FROM _zr_history WHERE type = 'updated' AND attribute = 'state'
        ), segments AS (
            SELECT t.ticket_id, t.ticket_id || '-0' AS seg_id, t.created_at AS start_at,
                   coalesce(c.from_type, t.state_type) AS state_type, 0 AS n
            FROM _zr_tickets t LEFT JOIN changes c ON c.ticket_id = t.ticket_id AND c.n = 1
            UNION ALL
            SELECT ticket_id, ticket_id || '-' || history_id, moment, to_type, n FROM changes
        ), ordered AS (
            SELECT *, lead(start_at) OVER (PARTITION BY ticket_id ORDER BY n) AS end_at,
                   coalesce(state_type LIKE 'pending%', false) AS pending
            FROM segments
        ), islands AS (
            SELECT *, sum(CASE WHEN pending THEN 0 ELSE 1 END) OVER (PARTITION BY ticket_id ORDER BY n) AS island
            FROM ordered
        )"""


def _request_pauses(_names: dict) -> str:
    return f"""
        WITH {_segments()},
        pauses AS (
            SELECT ticket_id, arg_min(seg_id, n) AS pause_id, min(start_at) AS start_at,
                   CASE WHEN bool_or(end_at IS NULL) THEN NULL ELSE max(end_at) END AS end_at
            FROM islands WHERE pending GROUP BY ticket_id, island
        )
        SELECT 'zammad-' || p.pause_id AS pause_id, p.ticket_id AS request_id,
               {BERLIN_DATE.format('p.start_at')} AS start_date, {BERLIN_DATE.format('p.end_at')} AS end_date,
               CASE WHEN TRY_CAST(t.a_identity_verified AS DATE) <= {BERLIN_DATE.format('p.start_at')}
                    THEN 'clarification' ELSE 'identity_proof' END AS reason
        FROM pauses p JOIN _zr_tickets t USING (ticket_id)
        ORDER BY p.ticket_id::BIGINT, p.start_at"""


def _request_events(names: dict) -> str:
    return f"""
        SELECT event_id, request_id, occurred_at, event, detail FROM (
            SELECT 'zammad-' || ticket_id || '-received' AS event_id, ticket_id AS request_id,
                   coalesce({DATE_ATTRIBUTE.format('a_received')}, created_at) AS occurred_at,
                   'received' AS event, NULL AS detail FROM _zr_tickets
            UNION ALL
            SELECT 'zammad-' || ticket_id || '-verified', ticket_id, {DATE_ATTRIBUTE.format('a_identity_verified')},
                   'identity_verified', NULL FROM _zr_tickets WHERE TRY_CAST(a_identity_verified AS DATE) IS NOT NULL
            UNION ALL
            SELECT 'zammad-h' || h.history_id, h.ticket_id, h.moment,
                   CASE WHEN h.attribute = 'group' THEN 'moved_in'
                        WHEN h.attribute = 'state' THEN 'state_changed'
                        WHEN h.type = 'added' THEN 'tag_added' ELSE 'tag_removed' END,
                   CASE WHEN h.attribute = 'group' THEN NULL WHEN h.type = 'removed' THEN h.value_from
                        ELSE coalesce(h.value_to, h.value_from) END
            FROM _zr_history h
            WHERE (h.type = 'updated' AND h.attribute = 'state')
               OR (h.type = 'updated' AND h.attribute = 'group'
                   AND (h.value_to = (SELECT name FROM _zr_group)
                        OR h.value_to LIKE '%::' || (SELECT name FROM _zr_group)))
               OR (h.type IN ('added', 'removed') AND h.attribute = 'tag')
            UNION ALL
            SELECT 'zammad-a' || article_id, ticket_id, moment,
                   CASE WHEN sender = 'Customer' THEN 'message_in' ELSE 'message_out' END, NULL
            FROM _zr_articles
        ) WHERE occurred_at IS NOT NULL
        ORDER BY request_id::BIGINT, occurred_at, event_id"""


def _incidents(_names: dict) -> str:
    # R2.5 lifecycle, from what the ticket records: the furthest step reached.
    return f"""
        SELECT t.ticket_id AS incident_id, t.title,
               lower(t.a_type) AS type,
               coalesce(t.a_detected_at, t.created_at::VARCHAR) AS detected_at, t.a_aware_at AS aware_at,
               t.a_personal_data AS personal_data,
               lower(t.a_risk) AS risk, t.a_subjects_affected AS subjects_affected,
               t.a_authority_notified_at AS authority_notified_at, t.a_delay_reason AS delay_reason,
               t.a_subjects_informed_at AS subjects_informed_at, lower(t.a_art34_exemption) AS art34_exemption,
               CASE WHEN t.a_art34_exemption IS NOT NULL THEN coalesce(
                   (SELECT max(h.moment) FROM _zr_history h WHERE h.ticket_id = t.ticket_id
                    AND h.attribute = 'incident_art34_exemption'), t.created_at) END AS art34_exemption_at,
               CASE WHEN t.state_type IN ('closed', 'merged') THEN 'closed'
                    WHEN t.a_contained_at IS NOT NULL THEN 'contained'
                    WHEN t.a_authority_notified_at IS NOT NULL THEN 'notified'
                    WHEN t.a_risk IS NOT NULL AND lower(t.a_risk) <> 'unassessed' THEN 'risk_assessed'
                    WHEN NOT TRY_CAST(t.a_personal_data AS BOOLEAN) THEN 'not_personal_data'
                    WHEN TRY_CAST(t.a_personal_data AS BOOLEAN) THEN 'confirmed'
                    WHEN t.a_aware_at IS NOT NULL THEN 'triage'
                    ELSE 'detected' END AS status,
               t.a_contained_at AS contained_at, {_closed_at()} AS closed_at
        FROM _zr_tickets t ORDER BY t.ticket_id::BIGINT"""


def _incident_records(_names: dict) -> str:
    return """
        SELECT 'zammad-link-' || l.link_id AS link_id, t.ticket_id AS incident_id, 'ticket' AS record_type,
               CASE WHEN l.source_id = t.ticket_id THEN l.target_id ELSE l.source_id END AS record_id
        FROM _zr_links l JOIN _zr_tickets t ON t.ticket_id IN (l.source_id, l.target_id)
        ORDER BY t.ticket_id::BIGINT, l.link_id::BIGINT"""


def _holds(names: dict) -> str:
    """R3.3: a ticket tagged ``hold_tag`` is held (kind legal) from the tag's addition until its removal;
    a tag that is on a ticket without history (imported, or history removed) counts from the tag's row."""
    tag = literal(names["hold_tag"])
    return f"""
        WITH marks AS (
            SELECT history_id, ticket_id, moment, type, by_id,
                   lead(type) OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS next_type,
                   lead(moment) OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS next_at,
                   lag(type) OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS prev_type
            FROM _zr_history WHERE attribute = 'tag' AND type IN ('added', 'removed')
              AND lower(CASE WHEN type = 'added' THEN value_to ELSE coalesce(value_from, value_to) END) = lower({tag})
        ), spans AS (
            SELECT 'zammad-tag-' || history_id AS hold_id, ticket_id, moment AS set_at, by_id,
                   CASE WHEN next_type = 'removed' THEN next_at END AS released_at
            FROM marks WHERE type = 'added' AND prev_type IS DISTINCT FROM 'added'
            UNION ALL
            SELECT 'zammad-tagrow-' || g.ticket_id, g.ticket_id, g.moment, g.by_id, NULL
            FROM _zr_tags g WHERE lower(g.tag) = lower({tag})
              AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.ticket_id = g.ticket_id)
        )
        SELECT s.hold_id, 'ticket' AS record_type, s.ticket_id AS record_id, 'legal' AS kind,
               'Zammad-Tag ' || {tag} AS reason, coalesce(l.login, 'Zammad-Benutzer ' || s.by_id) AS set_by,
               s.set_at, NULL::DATE AS review_date, s.released_at
        FROM spans s LEFT JOIN _zr_logins l ON l.user_id = s.by_id
        ORDER BY s.ticket_id::BIGINT, s.set_at"""


SHAPES = {"requests": _requests, "request_pauses": _request_pauses, "request_events": _request_events,
          "incidents": _incidents, "incident_records": _incident_records, "holds": _holds}
