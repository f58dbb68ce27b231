"""The privacy register shaped from a helpdesk's staged facts, one SELECT per canonical table: the
rules that turn tickets, their history, messages and marks into requests, pauses, events, breaches,
affected records and holds are written once here and shared by every helpdesk (Zammad, Znuny).

A connector stages what it read into DuckDB temp tables of one shape, in its system's own terms
translated to these:

- ``_reg_tickets``: ticket_id, customer_id, owner_id, (title), created_at, updated_at, last_close_at (the
  last close, even if reopened since), state_type (new, open, pending..., closed, merged) and one text
  column ``a_<canonical>`` per register attribute;
- ``_reg_history``: history_id, ticket_id, type (``updated``, ``added``, ``removed``, ``merged_into``),
  attribute (``state``, ``group``, ``tag``, ``art34_exemption``), value_from, value_to, by_id, moment,
  from_type, to_type (state types of a state change);
- ``_reg_articles`` (article_id, ticket_id, type: email/web/phone/other, sender: Customer or not, moment),
  ``_reg_tags`` (marks a ticket carries now: ticket_id, tag, by_id, moment), ``_reg_logins`` (user_id,
  login), ``_reg_links`` (link_id, source_id, target_id) and ``_reg_group`` (name).

A *mark* is what Zammad calls a tag and Znuny a checkbox field: the hold mark and the extension mark.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.postgres import fetch_into
from dashboard.sqltext import BERLIN_DATE, BERLIN_MIDNIGHT, identifier, literal

# Accepted besides the canonical codes: the article numbers a DPO may have used as option keys.
RIGHT_ALIASES = {"art15": "access", "art16": "rectification", "art17": "erasure", "art18": "restriction",
                 "art20": "portability", "art21": "objection"}
# The first message's type -> the request's channel (anything else, e.g. an agent's note for a letter).
CHANNELS = {"email": "email", "web": "web_form", "phone": "phone"}
OUTCOMES = ("completed", "rejected", "withdrawn")


@dataclass(frozen=True)
class Vocabulary:
    """What a helpdesk calls things: its name (the prefix of generated ids), its hold and extension marks,
    how a hold's reason and an unknown agent are written."""
    system: str
    hold_mark: str
    extension_mark: str
    hold_reason: str
    unknown_user: str


def shape(con, table: str, target: str, words: Vocabulary) -> None:
    """Create temp table ``target`` as the canonical ``table`` from the staged ``_reg_*`` tables."""
    con.execute(f"CREATE TEMP TABLE {identifier(target)} AS {SHAPES[table](words)}")


# Which register attributes each fed table reads (pauses need the identity date, events the received date).
READS = {"requests": "requests", "request_pauses": "requests", "request_events": "requests",
         "incidents": "incidents"}


def register_settings(ts: TableSource, defaults: dict[str, str], attributes: dict, also: set[str] = frozenset()
                      ) -> dict[str, str]:
    """A helpdesk register's names: ``defaults``, overridden by ``[sources.NAME.register]``, where an
    attribute or field is renamed by its canonical name (``attributes``); anything else is refused."""
    given = ts.settings.get("register", {})
    unknown = set(given) - set(defaults) - {c for cols in attributes.values() for c in cols} - set(also)
    if unknown:
        raise SourceError(f"{ts.describe()}: register: unknown setting {', '.join(sorted(unknown))}")
    return {**defaults, **{k: v for k, v in given.items() if k in defaults}}


def register_names(ts: TableSource, table: str, attributes: dict) -> dict[str, tuple[str, str]]:
    """canonical -> (the helpdesk's name, its type) of the attributes ``table`` reads; a DPO who named one
    differently says so as ``right = "..."`` under ``[sources.NAME.register]``."""
    given = ts.settings.get("register", {})
    return {canonical: (given.get(canonical, name), kind)
            for canonical, (name, kind) in attributes.get(READS.get(table, ""), {}).items()}


def fetch_logins(con, cur, s: str, table: str) -> None:
    """The logins of the agents a register names (a request's owner, who set a hold): those users only,
    from the helpdesk's ``users`` (id, login: both Zammad and Znuny)."""
    ids = ("SELECT owner_id AS id FROM _reg_tickets" if table == "requests" else
           "SELECT by_id FROM _reg_history WHERE type = 'added' UNION SELECT by_id FROM _reg_tags")
    wanted = [row[0] for row in con.sql(f"SELECT DISTINCT TRY_CAST(id AS BIGINT) FROM ({ids}) AS _i(id) "
                                        "WHERE TRY_CAST(id AS BIGINT) IS NOT NULL").fetchall()]
    listed = ", ".join(str(int(i)) for i in wanted) or "NULL"
    fetch_into(con, cur, f"SELECT id::text AS user_id, login FROM {s}.users WHERE id IN ({listed})", "_reg_logins")


def in_group(column: str, group: str) -> str:
    """PostgreSQL: a group's (Zammad) or queue's (Znuny) name, or the last part of a nested one's path
    ("Verwaltung::Datenschutz"): both helpdesks store the whole path."""
    return f"({column} = {literal(group)} OR {column} LIKE {literal('%::' + group.replace('%', ''))})"


def drop_staged(con) -> None:
    for (name,) in con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary "
                           "AND starts_with(table_name, '_reg_')").fetchall():
        con.execute(f"DROP TABLE {identifier(name)}")

DATE_ATTRIBUTE = BERLIN_MIDNIGHT.format("TRY_CAST({} AS DATE)")  # a date attribute's moment


def _tag_added(tag: str) -> str:
    """The first time ``tag`` was added to each ticket (history first, else the tag's own row)."""
    return f"""
        SELECT ticket_id, min(moment) AS moment FROM (
            SELECT ticket_id, moment FROM _reg_history WHERE type = 'added' AND attribute = 'tag'
                   AND lower(value_to) = lower({literal(tag)})
            UNION ALL SELECT ticket_id, moment FROM _reg_tags WHERE lower(tag) = lower({literal(tag)}))
        GROUP BY ticket_id"""


def _closed_at() -> str:
    """R2.4b: closed moment the last close while the state type is closed; a merged ticket moment its merge."""
    return """CASE WHEN t.state_type = 'closed' THEN t.last_close_at
                   WHEN t.state_type = 'merged' THEN coalesce(
                       (SELECT max(h.moment) FROM _reg_history h
                        WHERE h.ticket_id = t.ticket_id AND h.type = 'merged_into'),
                       t.updated_at) END"""


def _requests(words: Vocabulary) -> str:
    aliases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in RIGHT_ALIASES.items())
    channels = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in CHANNELS.items())
    outcomes = ", ".join(literal(o) for o in OUTCOMES)
    return f"""
        WITH first_article AS (
            SELECT ticket_id, arg_min(type, (moment, article_id::BIGINT)) AS type FROM _reg_articles GROUP BY ticket_id
        ), extension AS ({_tag_added(words.extension_mark)})
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
        FROM _reg_tickets t
        LEFT JOIN first_article f USING (ticket_id)
        LEFT JOIN extension e USING (ticket_id)
        LEFT JOIN _reg_logins l ON l.user_id = t.owner_id
        ORDER BY t.ticket_id::BIGINT"""


def _segments() -> str:
    """Each request's states as intervals: before the first change the first change's old state (else the
    state it is in now), then each change's new state until the next change."""
    return """
        changes AS (
            SELECT ticket_id, history_id, moment, from_type, to_type,
                   row_number() OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS n
            FROM _reg_history WHERE type = 'updated' AND attribute = 'state'
        ), segments AS (
            SELECT t.ticket_id, t.ticket_id || '-0' AS seg_id, t.created_at AS start_at,
                   coalesce(c.from_type, t.state_type) AS state_type, 0 AS n
            FROM _reg_tickets t LEFT JOIN changes c ON c.ticket_id = t.ticket_id AND c.n = 1
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


def _request_pauses(words: Vocabulary) -> str:
    return f"""
        WITH {_segments()},
        pauses AS (
            SELECT ticket_id, arg_min(seg_id, n) AS pause_id, min(start_at) AS start_at,
                   CASE WHEN bool_or(end_at IS NULL) THEN NULL ELSE max(end_at) END AS end_at
            FROM islands WHERE pending GROUP BY ticket_id, island
        )
        SELECT {literal(words.system + '-')} || p.pause_id AS pause_id, p.ticket_id AS request_id,
               {BERLIN_DATE.format('p.start_at')} AS start_date, {BERLIN_DATE.format('p.end_at')} AS end_date,
               CASE WHEN TRY_CAST(t.a_identity_verified AS DATE) <= {BERLIN_DATE.format('p.start_at')}
                    THEN 'clarification' ELSE 'identity_proof' END AS reason
        FROM pauses p JOIN _reg_tickets t USING (ticket_id)
        ORDER BY p.ticket_id::BIGINT, p.start_at"""


def _request_events(words: Vocabulary) -> str:
    prefix = literal(words.system + "-")
    return f"""
        SELECT event_id, request_id, occurred_at, event, detail FROM (
            SELECT {prefix} || ticket_id || '-received' AS event_id, ticket_id AS request_id,
                   coalesce({DATE_ATTRIBUTE.format('a_received')}, created_at) AS occurred_at,
                   'received' AS event, NULL AS detail FROM _reg_tickets
            UNION ALL
            SELECT {prefix} || ticket_id || '-verified', ticket_id, {DATE_ATTRIBUTE.format('a_identity_verified')},
                   'identity_verified', NULL FROM _reg_tickets WHERE TRY_CAST(a_identity_verified AS DATE) IS NOT NULL
            UNION ALL
            SELECT {prefix} || 'h' || h.history_id, h.ticket_id, h.moment,
                   CASE WHEN h.attribute = 'group' THEN 'moved_in'
                        WHEN h.attribute = 'state' THEN 'state_changed'
                        WHEN h.type = 'added' THEN 'tag_added' ELSE 'tag_removed' END,
                   CASE WHEN h.attribute = 'group' THEN NULL WHEN h.type = 'removed' THEN h.value_from
                        ELSE coalesce(h.value_to, h.value_from) END
            FROM _reg_history h
            WHERE (h.type = 'updated' AND h.attribute = 'state')
               OR (h.type = 'updated' AND h.attribute = 'group'
                   AND (h.value_to = (SELECT name FROM _reg_group)
                        OR h.value_to LIKE '%::' || (SELECT name FROM _reg_group)))
               OR (h.type IN ('added', 'removed') AND h.attribute = 'tag')
            UNION ALL
            SELECT {prefix} || 'a' || article_id, ticket_id, moment,
                   CASE WHEN sender = 'Customer' THEN 'message_in' ELSE 'message_out' END, NULL
            FROM _reg_articles
        ) WHERE occurred_at IS NOT NULL
        ORDER BY request_id::BIGINT, occurred_at, event_id"""


def _incidents(_words: Vocabulary) -> str:
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
                   (SELECT max(h.moment) FROM _reg_history h WHERE h.ticket_id = t.ticket_id
                    AND h.attribute = 'art34_exemption'), t.created_at) END AS art34_exemption_at,
               CASE WHEN t.state_type IN ('closed', 'merged') THEN 'closed'
                    WHEN t.a_contained_at IS NOT NULL THEN 'contained'
                    WHEN t.a_authority_notified_at IS NOT NULL THEN 'notified'
                    WHEN t.a_risk IS NOT NULL AND lower(t.a_risk) <> 'unassessed' THEN 'risk_assessed'
                    WHEN NOT TRY_CAST(t.a_personal_data AS BOOLEAN) THEN 'not_personal_data'
                    WHEN TRY_CAST(t.a_personal_data AS BOOLEAN) THEN 'confirmed'
                    WHEN t.a_aware_at IS NOT NULL THEN 'triage'
                    ELSE 'detected' END AS status,
               t.a_contained_at AS contained_at, {_closed_at()} AS closed_at
        FROM _reg_tickets t ORDER BY t.ticket_id::BIGINT"""


def _incident_records(words: Vocabulary) -> str:
    return f"""
        SELECT {literal(words.system + '-link-')} || l.link_id AS link_id, t.ticket_id AS incident_id,
               'ticket' AS record_type,
               CASE WHEN l.source_id = t.ticket_id THEN l.target_id ELSE l.source_id END AS record_id
        FROM _reg_links l JOIN _reg_tickets t ON t.ticket_id IN (l.source_id, l.target_id)
        ORDER BY t.ticket_id::BIGINT, TRY_CAST(l.link_id AS BIGINT), l.link_id"""


def _holds(words: Vocabulary) -> str:
    """R3.3: a ticket with the hold mark is held (kind legal) from the mark's setting until its removal;
    a mark that is on a ticket without history (imported, or history removed) counts from its own row."""
    tag = literal(words.hold_mark)
    return f"""
        WITH marks AS (
            SELECT history_id, ticket_id, moment, type, by_id,
                   lead(type) OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS next_type,
                   lead(moment) OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS next_at,
                   lag(type) OVER (PARTITION BY ticket_id ORDER BY moment, history_id::BIGINT) AS prev_type
            FROM _reg_history WHERE attribute = 'tag' AND type IN ('added', 'removed')
              AND lower(CASE WHEN type = 'added' THEN value_to ELSE coalesce(value_from, value_to) END) = lower({tag})
        ), spans AS (
            SELECT {literal(words.system + '-tag-')} || history_id AS hold_id, ticket_id, moment AS set_at, by_id,
                   CASE WHEN next_type = 'removed' THEN next_at END AS released_at
            FROM marks WHERE type = 'added' AND prev_type IS DISTINCT FROM 'added'
            UNION ALL
            SELECT {literal(words.system + '-tagrow-')} || g.ticket_id, g.ticket_id, g.moment, g.by_id, NULL
            FROM _reg_tags g WHERE lower(g.tag) = lower({tag})
              AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.ticket_id = g.ticket_id)
        )
        SELECT s.hold_id, 'ticket' AS record_type, s.ticket_id AS record_id, 'legal' AS kind,
               {literal(words.hold_reason)} AS reason,
               coalesce(l.login, {literal(words.unknown_user)} || coalesce(s.by_id, '?')) AS set_by,
               s.set_at, NULL::DATE AS review_date, s.released_at
        FROM spans s LEFT JOIN _reg_logins l ON l.user_id = s.by_id
        ORDER BY s.ticket_id::BIGINT, s.set_at"""


SHAPES = {"requests": _requests, "request_pauses": _request_pauses, "request_events": _request_events,
          "incidents": _incidents, "incident_records": _incident_records, "holds": _holds}
