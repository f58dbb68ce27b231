"""The privacy register read from Znuny, where the work arrives: requests, their pauses and events,
breaches with their affected records, and holds (docs/CONNECTORS.md, "Das Datenschutz-Register in
Znuny"). The rules are the Zammad register's (``register_shapes``); this module only translates
Znuny's facts into them.

Facts from znuny/Znuny (scripts/database/schema.postgresql.sql, initial_insert.postgresql.sql,
Kernel/System/Ticket.pm, Kernel/System/DynamicFieldValue.pm, Kernel/System/DynamicField/Driver/*.pm,
Kernel/System/Ticket/Event/TicketDynamicFieldUpdate ... history):

- A request is a ticket of the queue ``Datenschutz``, a breach one of ``Datenpannen`` (a sub-queue's
  name is its whole path, "Verwaltung::Datenschutz": the last part counts).
- The register's facts are **dynamic fields**: ``dynamic_field`` names them (joined by name, object type
  Ticket), ``dynamic_field_value`` holds one row per ticket (``object_id``) and field: Text, TextArea and
  Dropdown in ``value_text``, Date and DateTime in ``value_date``, Checkbox in ``value_int`` (1/0). Every
  value is read as text and typed by the snapshot's validation, so a wrong value rejects its row with a
  reason; a field that is missing or not readable is read as empty and named as a finding.
- ``ticket_history`` keeps, on every row, the ticket's queue and state *after* the change: a state
  change is ``StateUpdate`` (the state before it is the previous row's), a queue move ``Move``, a merge
  ``Merged``, a dynamic field's change ``TicketDynamicFieldUpdate`` with the name
  ``%%FieldName%%<field>%%Value%%<new>%%OldValue%%<old>``; checkboxes write "1" and "0". Only the rows of
  the hold, extension and Art. 34 fields leave the database: other fields' history names carry their
  values (an e-mail address, for one).
- Pending reminder and pending auto both pause a request; a merged ticket is a closed duplicate at its
  merge; a removed ticket is not a request.
- The hold is the checkbox ``DSGVOLoeschsperre`` (kind legal): set and cleared from its history, set by
  the login of the agent who set it; the extension is the checkbox ``DSGVOExtension``, notified when it
  was set. A checkbox that is set without history counts from the ticket's creation.
- Links are ``link_relation`` rows between two Ticket objects in the state Valid, in either direction.
- Znuny writes every time, dynamic field values included, in its ``OTRSTimeZone`` (the source's
  ``timezone``). Znuny keeps no record of deletions (nothing like Zammad's data privacy tasks).

Only times, ids, queue and state names, field values and agents' logins are read: never a title of a
request, a message body or a subject line.
"""

from __future__ import annotations

from dashboard.ingest.config import TableSource
from dashboard.ingest.connectors import register_shapes
from dashboard.ingest.connectors.register_shapes import in_group
from dashboard.ingest.postgres import fetch_into
from dashboard.ingest.staging import in_zone
from dashboard.sqltext import identifier, literal

FEEDS = ("requests", "request_pauses", "request_events", "incidents", "incident_records", "holds")

# [sources.NAME.register]: every name the setup in docs/CONNECTORS.md creates, overridable.
DEFAULTS = {
    "requests_queue": "Datenschutz",
    "incidents_queue": "Datenpannen",
    "hold_field": "DSGVOLoeschsperre",
    "extension_field": "DSGVOExtension",
}

# canonical column -> (default dynamic field name, Znuny field type) per register table
ATTRIBUTES: dict[str, dict[str, tuple[str, str]]] = {
    "requests": {
        "right": ("DSGVORight", "Dropdown"),
        "received": ("DSGVOReceived", "Date"),
        "outcome": ("DSGVOOutcome", "Dropdown"),
        "identity_verified": ("DSGVOIdentityVerified", "Date"),
        "extension_reason": ("DSGVOExtensionReason", "Text"),
        "subject_email": ("DSGVOSubjectEmail", "Text"),
    },
    "incidents": {
        "detected_at": ("IncidentDetectedAt", "DateTime"),
        "aware_at": ("IncidentAwareAt", "DateTime"),
        "authority_notified_at": ("IncidentNotifiedAt", "DateTime"),
        "subjects_informed_at": ("IncidentSubjectsInformedAt", "DateTime"),
        "contained_at": ("IncidentContainedAt", "DateTime"),
        "type": ("IncidentType", "Dropdown"),
        "risk": ("IncidentRisk", "Dropdown"),
        "art34_exemption": ("IncidentArt34Exemption", "Dropdown"),
        "personal_data": ("IncidentPersonalData", "Checkbox"),
        "subjects_affected": ("IncidentSubjectsAffected", "Text"),
        "delay_reason": ("IncidentDelayReason", "Text"),
    },
}
# The field types a register field may have (a text may be a TextArea).
ACCEPTED = {"Text": ("Text", "TextArea"), "Dropdown": ("Dropdown",), "Date": ("Date",), "DateTime": ("DateTime",),
            "Checkbox": ("Checkbox",)}
# Each field type's value, as text, from its dynamic_field_value row ``v``.
VALUE = {"Text": "NULLIF(btrim(v.value_text), '')", "Dropdown": "NULLIF(btrim(v.value_text), '')",
         "Date": "to_char(v.value_date, 'YYYY-MM-DD')", "DateTime": "to_char(v.value_date, 'YYYY-MM-DD HH24:MI:SS')",
         "Checkbox": "CASE v.value_int WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"}

# Catalogue checks: what each table reads.
_TICKET = ("id", "queue_id", "ticket_state_id", "customer_user_id", "user_id", "create_time", "change_time")
_STATES = {"ticket_state": ("id", "name", "type_id"), "ticket_state_type": ("id", "name"), "queue": ("id", "name")}
_HISTORY = {"ticket_history": ("id", "name", "history_type_id", "ticket_id", "queue_id", "state_id", "create_time",
                               "create_by"),
            "ticket_history_type": ("id", "name")}
_FIELDS = {"dynamic_field": ("id", "name", "field_type", "object_type"),
           "dynamic_field_value": ("field_id", "object_id", "value_text", "value_date", "value_int")}
_ARTICLES = {"article": ("id", "ticket_id", "article_sender_type_id", "communication_channel_id", "create_time"),
             "article_sender_type": ("id", "name"), "communication_channel": ("id", "name")}
_LOGINS = {"users": ("id", "login")}
REQUIRES: dict[str, dict[str, tuple[str, ...]]] = {
    "requests": {"ticket": _TICKET, **_STATES, **_HISTORY, **_FIELDS, **_ARTICLES, **_LOGINS},
    "request_pauses": {"ticket": _TICKET, **_STATES, **_HISTORY, **_FIELDS},
    "request_events": {"ticket": _TICKET, **_STATES, **_HISTORY, **_FIELDS, **_ARTICLES},
    "incidents": {"ticket": (*_TICKET, "title"), **_STATES, **_HISTORY, **_FIELDS},
    "incident_records": {"ticket": _TICKET, **_STATES,
                         "link_relation": ("source_object_id", "source_key", "target_object_id", "target_key",
                                           "state_id"),
                         "link_object": ("id", "name"), "link_state": ("id", "name")},
    "holds": {"ticket": ("id", "create_time"), **_HISTORY, **_FIELDS, **_LOGINS},
}
# The history entries the register reads (Kernel/System/Ticket.pm); NewTicket only for the first state.
HISTORY_TYPES = ("NewTicket", "StateUpdate", "Move", "Merged", "TicketDynamicFieldUpdate")


def settings(ts: TableSource) -> dict[str, str]:
    """The register's names: the defaults, overridden by ``[sources.NAME.register]``."""
    return register_shapes.register_settings(ts, DEFAULTS, ATTRIBUTES)


def field_names(ts: TableSource, table: str) -> dict[str, tuple[str, str]]:
    """canonical -> (dynamic field name, field type) of the fields ``table`` reads."""
    return register_shapes.register_names(ts, table, ATTRIBUTES)


def vocabulary(names: dict[str, str]) -> register_shapes.Vocabulary:
    """Znuny's words: checkbox fields are the marks."""
    return register_shapes.Vocabulary(system="znuny", hold_mark=names["hold_field"],
                                      extension_mark=names["extension_field"],
                                      hold_reason=f"Znuny-Feld {names['hold_field']}", unknown_user="Znuny-Benutzer ")


def stage(con, cur, ts: TableSource, table: str, target: str, schema: str) -> None:
    """Read what ``table`` needs from Znuny into DuckDB (``_reg_*``), then shape it into ``target``."""
    names = settings(ts)
    s = identifier(schema)
    queue = names["incidents_queue"] if table in ("incidents", "incident_records") else names["requests_queue"]
    fields = _fields(cur, s, [*(n for n, _k in field_names(ts, table).values()), names["hold_field"],
                              names["extension_field"], _art34_field(ts)])
    if table != "holds":
        _tickets(con, cur, ts, table, s, queue, fields, target)
    if table in ("requests", "request_pauses", "request_events", "incidents", "holds"):
        _history(con, cur, ts, s, names, None if table == "holds" else queue)
    if table in ("requests", "request_events"):
        _articles(con, cur, ts, s, queue)
    if table in ("requests", "holds"):
        _marks(con, cur, ts, s, names, fields)
        register_shapes.fetch_logins(con, cur, s, table)
    if table == "incident_records":
        fetch_into(con, cur, f"""
            SELECT l.source_key || '-' || l.target_key AS link_id, l.source_key AS source_id,
                   l.target_key AS target_id
            FROM {s}.link_relation l
            JOIN {s}.link_object so ON so.id = l.source_object_id AND so.name = 'Ticket'
            JOIN {s}.link_object tobj ON tobj.id = l.target_object_id AND tobj.name = 'Ticket'
            JOIN {s}.link_state ls ON ls.id = l.state_id AND ls.name = 'Valid'""", "_reg_links")
    register_shapes.shape(con, table, target, vocabulary(names))
    register_shapes.drop_staged(con)


def report(cur, ts: TableSource, table: str, schema: str) -> list[tuple[bool, str]]:
    """``sources check``: the queue exists; each field the table reads exists for tickets with its type."""
    names = settings(ts)
    s = identifier(schema)
    queue = names["incidents_queue"] if table in ("incidents", "incident_records") else names["requests_queue"]
    cur.execute(f"SELECT count(*) FROM {s}.queue q WHERE {in_group('q.name', queue)}")
    found = cur.fetchone()[0]
    lines = [(bool(found), f"queue {queue}" + ("" if found else " not found (docs/CONNECTORS.md, step 1)"))]
    wanted = dict(field_names(ts, table).values())
    if table in ("requests", "holds"):
        wanted[names["extension_field" if table == "requests" else "hold_field"]] = "Checkbox"
    if wanted:
        declared = {name: kind for name, (_id, kind) in _fields(cur, s, list(wanted)).items()}
        for name, kind in wanted.items():
            if name not in declared:
                lines.append((False, f"dynamic field {name} ({kind}) missing"))
            elif declared[name] not in ACCEPTED[kind]:
                lines.append((False, f"dynamic field {name} is {declared[name]}, should be {kind}"))
        if all(ok for ok, _ in lines):
            lines.append((True, f"dynamic fields ({len(wanted)})"))
    return lines


def _art34_field(ts: TableSource) -> str:
    return ts.settings.get("register", {}).get("art34_exemption", ATTRIBUTES["incidents"]["art34_exemption"][0])


def _fields(cur, s: str, names: list[str]) -> dict[str, tuple[int, str]]:
    """name -> (id, field type) of the ticket fields named (a field Znuny does not have is absent)."""
    listed = ", ".join(literal(n) for n in dict.fromkeys(names)) or "NULL"
    cur.execute(f"SELECT name, id, field_type FROM {s}.dynamic_field WHERE object_type = 'Ticket' "
                f"AND name IN ({listed})")
    return {name: (int(field_id), kind) for name, field_id, kind in cur.fetchall()}


def _local(ts: TableSource, column: str) -> str:
    return f"({column} AT TIME ZONE {literal(ts.timezone)})"


def _tickets(con, cur, ts: TableSource, table: str, s: str, queue: str, fields: dict, target: str) -> None:
    """The queue's tickets with their state type, last close and every register field as text (a field that
    does not exist is empty and named)."""
    wanted = field_names(ts, table)
    values = []
    for canonical, (name, kind) in wanted.items():
        column = identifier("a_" + canonical)
        if name in fields and fields[name][1] in ACCEPTED[kind]:
            values.append(f"(SELECT max({VALUE[kind]}) FROM {s}.dynamic_field_value v WHERE v.object_id = t.id "
                          f"AND v.field_id = {fields[name][0]}) AS {column}")  # one value per field and ticket
        else:
            values.append(f"NULL::text AS {column}")
            if table in ("requests", "incidents"):  # once, not for every table that reads the field
                con.execute(f"INSERT INTO {target}_findings VALUES (?, 'register_attribute_missing', ?)",
                            [ts.source, f"{name} ({kind})"])
    title = ", t.title" if table == "incidents" else ""
    fetch_into(con, cur, f"""
        WITH closes AS (  -- the last time each ticket entered a state of type closed
            SELECT h.ticket_id, max(h.create_time) AS at
            FROM {s}.ticket_history h
            JOIN {s}.ticket_history_type ht ON ht.id = h.history_type_id AND ht.name IN ('NewTicket', 'StateUpdate')
            JOIN {s}.ticket_state hs ON hs.id = h.state_id
            JOIN {s}.ticket_state_type hst ON hst.id = hs.type_id AND hst.name = 'closed'
            GROUP BY h.ticket_id
        )
        SELECT t.id::text AS ticket_id, t.customer_user_id AS customer_id,
               NULLIF(t.user_id, 1)::text AS owner_id{title},
               {_local(ts, 't.create_time')} AS created_at, {_local(ts, 't.change_time')} AS updated_at,
               {_local(ts, 'c.at')} AS last_close_at, st.name AS state_type
               {''.join(', ' + v for v in values)}
        FROM {s}.ticket t
        JOIN {s}.queue q ON q.id = t.queue_id AND {in_group('q.name', queue)}
        JOIN {s}.ticket_state ts ON ts.id = t.ticket_state_id
        JOIN {s}.ticket_state_type st ON st.id = ts.type_id
        LEFT JOIN closes c ON c.ticket_id = t.id
        WHERE st.name <> 'removed'""", "_reg_tickets")
    for canonical, (_name, kind) in wanted.items():
        if kind == "DateTime":  # stored in the OTRSTimeZone, without an offset
            column = identifier("a_" + canonical)
            con.execute(f"UPDATE _reg_tickets SET {column} = {in_zone(column, ts.timezone)}")
    con.execute("CREATE OR REPLACE TEMP TABLE _reg_group AS SELECT $g AS name", {"g": queue})


def _history(con, cur, ts: TableSource, s: str, names: dict, queue: str | None) -> None:
    """The history the register needs, in the shared shape: state changes (the state before from the
    previous row), moves, merges, and the changes of the hold, extension and Art. 34 fields, of the
    queue's tickets; for holds, the hold field's changes on every ticket."""
    marks = {names["hold_field"], names["extension_field"]} if queue else {names["hold_field"]}
    watched = ", ".join(literal(n) for n in sorted(marks | ({_art34_field(ts)} if queue else set())))
    field = "substring(h.name FROM '^%%FieldName%%([^%]+)%%Value%%')"
    value = "substring(h.name FROM '%%Value%%([^%]*)')"
    mark_list = ", ".join(literal(m) for m in sorted(marks))
    if queue:  # every state, move, merge and watched field of the queue's tickets
        scope = (f"h.ticket_id IN (SELECT t.id FROM {s}.ticket t JOIN {s}.queue q ON q.id = t.queue_id "
                 f"WHERE {in_group('q.name', queue)})")
        keep = f"kind IN ('StateUpdate', 'Move', 'Merged') OR field IN ({watched})"
    else:  # the hold field's changes, on any ticket
        scope = f"starts_with(h.name, {literal('%%FieldName%%' + names['hold_field'] + '%%Value%%')})"
        keep = f"field IN ({watched})"
    fetch_into(con, cur, f"""
        WITH rows AS (
            SELECT h.id, h.ticket_id, ht.name AS kind, h.create_by, h.create_time,
                   CASE WHEN ht.name = 'TicketDynamicFieldUpdate' THEN {field} END AS field,
                   CASE WHEN ht.name = 'TicketDynamicFieldUpdate' THEN {value} END AS value,
                   hs.name AS state, hst.name AS state_type, q.name AS queue,
                   lag(hs.name) OVER w AS prev_state, lag(hst.name) OVER w AS prev_type,
                   lag(q.name) OVER w AS prev_queue
            FROM {s}.ticket_history h
            JOIN {s}.ticket_history_type ht ON ht.id = h.history_type_id
                 AND ht.name IN ({', '.join(literal(k) for k in HISTORY_TYPES)})
            JOIN {s}.ticket_state hs ON hs.id = h.state_id
            JOIN {s}.ticket_state_type hst ON hst.id = hs.type_id
            LEFT JOIN {s}.queue q ON q.id = h.queue_id
            WHERE {scope}
            WINDOW w AS (PARTITION BY h.ticket_id ORDER BY h.create_time, h.id)
        )
        SELECT id::text AS history_id, ticket_id::text AS ticket_id,
               CASE WHEN kind = 'Merged' THEN 'merged_into'
                    WHEN field IN ({mark_list}) THEN CASE WHEN value = '1' THEN 'added' ELSE 'removed' END
                    ELSE 'updated' END AS type,
               CASE kind WHEN 'StateUpdate' THEN 'state' WHEN 'Move' THEN 'group'
                         WHEN 'TicketDynamicFieldUpdate' THEN
                             CASE WHEN field IN ({mark_list}) THEN 'tag' ELSE 'art34_exemption' END END AS attribute,
               CASE kind WHEN 'StateUpdate' THEN prev_state WHEN 'Move' THEN prev_queue
                         WHEN 'TicketDynamicFieldUpdate' THEN CASE WHEN value <> '1' THEN field END END AS value_from,
               CASE kind WHEN 'StateUpdate' THEN state WHEN 'Move' THEN queue
                         WHEN 'TicketDynamicFieldUpdate' THEN CASE WHEN value = '1' THEN field ELSE value END
                         END AS value_to,
               create_by::text AS by_id, {_local(ts, 'create_time')} AS moment,
               CASE WHEN kind = 'StateUpdate' THEN state_type END AS to_type,
               CASE WHEN kind = 'StateUpdate' THEN prev_type END AS from_type
        FROM rows
        WHERE {keep}""", "_reg_history")


def _articles(con, cur, ts: TableSource, s: str, queue: str) -> None:
    """The queue's messages: time, channel and who sent it (never a body or a subject line). A customer's
    message through the customer interface is an Internal one from the customer: a web form."""
    fetch_into(con, cur, f"""
        SELECT a.id::text AS article_id, a.ticket_id::text AS ticket_id,
               CASE WHEN cc.name = 'Email' THEN 'email' WHEN cc.name = 'Phone' THEN 'phone'
                    WHEN cc.name = 'Internal' AND se.name = 'customer' THEN 'web' ELSE 'other' END AS type,
               CASE WHEN se.name = 'customer' THEN 'Customer' ELSE 'Agent' END AS sender,
               {_local(ts, 'a.create_time')} AS moment
        FROM {s}.article a
        JOIN {s}.ticket t ON t.id = a.ticket_id JOIN {s}.queue q ON q.id = t.queue_id AND {in_group('q.name', queue)}
        JOIN {s}.communication_channel cc ON cc.id = a.communication_channel_id
        JOIN {s}.article_sender_type se ON se.id = a.article_sender_type_id""", "_reg_articles")


def _marks(con, cur, ts: TableSource, s: str, names: dict, fields: dict) -> None:
    """The hold and extension checkboxes set now whose setting has no history (imported, or the history
    removed): they count from the ticket's creation."""
    ids = {fields[n][0]: n for n in (names["hold_field"], names["extension_field"])
           if n in fields and fields[n][1] == "Checkbox"}
    cases = " ".join(f"WHEN {i} THEN {literal(n)}" for i, n in ids.items())
    fetch_into(con, cur, f"""
        SELECT v.object_id::text AS ticket_id, CASE v.field_id {cases or 'WHEN NULL THEN NULL'} END AS tag,
               NULL::text AS by_id, {_local(ts, 't.create_time')} AS moment
        FROM {s}.dynamic_field_value v JOIN {s}.ticket t ON t.id = v.object_id
        WHERE v.field_id IN ({', '.join(str(i) for i in ids) or 'NULL'}) AND v.value_int = 1""", "_reg_tags")
    con.execute("DELETE FROM _reg_tags g WHERE EXISTS (SELECT 1 FROM _reg_history h WHERE h.ticket_id = g.ticket_id "
                "AND h.attribute = 'tag' AND g.tag IN (h.value_to, h.value_from))")  # history says when
