"""listmonk (PostgreSQL): subscribers as contacts, subscriptions as consent events via the ledger.

Facts from knadh/listmonk (schema.sql, queries/subscribers.sql):

- ``subscribers`` (id, email, name, created_at) know a person by e-mail only; ``name`` is one field
  (split at its last space into first and last name here).
- ``subscriber_lists`` holds one row per subscription with ``status`` unconfirmed / confirmed /
  unsubscribed and ``meta.optin_ip`` only when the setting ``privacy.record_optin_ip`` is on;
  ``lists.optin`` is single or double. Confirming and unsubscribing both overwrite
  ``updated_at``: there is no history, so the consent ledger (consent_ledger.py beside this) keeps one.
- Only lists mapped in ``[sources.NAME.purposes]`` (list name -> consent purpose) become consent
  events; the ledger still follows every list, so a list mapped later keeps what was seen.
- A double-opt-in list read while ``privacy.record_optin_ip`` is off is a finding: its
  confirmations carry no IP as proof. The setting is read from ``settings_table`` (default
  ``settings``; docs/CONNECTORS.md grants a one-row view instead, as ``settings`` also holds SMTP
  passwords).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.ingest.config import SourceError, TableSource
from dashboard.ingest.connectors.consent_ledger import Subscription, ledger_path, record
from dashboard.ingest.connectors.mapping import check_mapping
from dashboard.ingest.postgres import stream_query
from dashboard.schema import BY_NAME
from dashboard.sqltext import identifier, literal

FEEDS = ("contacts", "consent_events")
OPTIN_IP_SETTING = "privacy.record_optin_ip"
# What incremental refresh watches (listmonk sets updated_at on every subscriber change). Not
# consent_events: every read appends to the consent ledger and notes the setting's findings.
WATCH = {"contacts": ("subscribers",)}


def requires(ts: TableSource) -> dict[str, tuple[str, ...]]:
    if ts.table == "contacts":
        return {"subscribers": ("id", "email", "name", "created_at")}
    return {"subscriber_lists": ("subscriber_id", "list_id", "status", "created_at", "updated_at", "meta"),
            "lists": ("id", "name", "optin"),
            ts.settings.get("settings_table", "settings"): ("key", "value")}


def check_settings(ts: TableSource) -> None:
    check_mapping(ts, "purposes", "consent_events", "purpose")
    channel = ts.settings.get("channel", "web")
    if channel not in BY_NAME["consent_events"].column("channel").enum:
        raise SourceError(f"{ts.describe()}: channel: {channel!r} is not a consent channel")


def stage(con, cur, ts: TableSource, table, target: str) -> None:
    s = identifier(ts.settings.get("schema", "public"))
    if ts.table == "contacts":
        stream_query(con, cur, ts, table, target, f"""
            SELECT id::text AS contact_id,
                   NULLIF(btrim(regexp_replace(btrim(name), '\\s*\\S+$', '')), '') AS first_name,
                   NULLIF(substring(btrim(name) from '\\S+$'), '') AS last_name,
                   NULLIF(btrim(email), '') AS email, created_at
            FROM {s}.subscribers""")
        return
    purposes = ts.settings.get("purposes", {})
    cur.execute(f"""
        SELECT sl.subscriber_id::text, sl.list_id::text, l.optin::text, sl.status::text,
               sl.created_at, sl.updated_at, NULLIF(btrim(sl.meta ->> 'optin_ip'), '')
        FROM {s}.subscriber_lists sl JOIN {s}.lists l ON l.id = sl.list_id
        ORDER BY sl.subscriber_id, sl.list_id""")
    current = [Subscription(r[0], r[1], r[2], r[3], _utc(r[4]), _utc(r[5]), r[6])
               for r in cur.fetchall()]
    ledger = record(ledger_path(ts.state_dir, ts.source), current,
                                   dt.datetime.now(dt.UTC))
    cur.execute(f"SELECT id::text, name, optin::text FROM {s}.lists")
    lists = cur.fetchall()
    purpose_of = {list_id: purposes[name] for list_id, name, _ in lists if name in purposes}
    present = {(sub.subscriber_id, sub.list_id) for sub in current}  # a deleted subscriber leaves the snapshot
    events = [e for e in ledger.entries if e["kind"] == "event" and e["list_id"] in purpose_of
              and (e["subscriber_id"], e["list_id"]) in present]
    # A damaged line stops no build: the other tables and the readable history go on; each line is a finding.
    if ledger.damaged:
        con.executemany(f"INSERT INTO {target}_findings VALUES (?, ?, ?)",
                        [(ts.source, "ledger_damaged", problem) for problem in ledger.damaged])
    con.register("_ledger_events", _consent_frame(ts, events, purpose_of))
    try:
        con.execute(f"CREATE TEMP TABLE {target} AS SELECT * FROM _ledger_events")
    finally:
        con.unregister("_ledger_events")
    double = {name for _, name, optin in lists if optin == "double" and name in purposes}
    _optin_ip_findings(con, cur, ts, s, target, double)


def _consent_frame(ts: TableSource, events: list[dict], purpose_of: dict[str, str]) -> pl.DataFrame:
    """The ledger's events as canonical consent_events rows (listmonk records no notice version)."""
    return pl.DataFrame({
        "event_id": [f"{ts.source}:{e['seq']}" for e in events],
        "contact_id": [e["subscriber_id"] for e in events],
        "purpose": [purpose_of[e["list_id"]] for e in events],
        "action": [e["action"] for e in events],
        "occurred_at": [dt.datetime.fromisoformat(e["occurred_at"]) for e in events],
        "notice_version": [None] * len(events),
        "channel": [ts.settings.get("channel", "web")] * len(events),
        "inferred": [e["inferred"] for e in events],
        "optin_ip": [e["optin_ip"] for e in events],
    }, schema={"event_id": pl.String, "contact_id": pl.String, "purpose": pl.String, "action": pl.String,
               "occurred_at": pl.Datetime("us", "UTC"), "notice_version": pl.String, "channel": pl.String,
               "inferred": pl.Boolean, "optin_ip": pl.String})


def _optin_ip_findings(con, cur, ts: TableSource, schema: str, target: str, double_lists: set[str]) -> None:
    """A finding per mapped double-opt-in list while listmonk does not record the opt-in IP."""
    table = identifier(ts.settings.get("settings_table", "settings"))
    cur.execute(f"SELECT value::text FROM {schema}.{table} WHERE key = {literal(OPTIN_IP_SETTING)}")
    row = cur.fetchone()
    recorded = row is not None and row[0].strip() == "true"
    if not recorded:
        con.executemany(f"INSERT INTO {target}_findings VALUES (?, ?, ?)",
                        [(ts.source, "doi_without_optin_ip", name) for name in sorted(double_lists)])


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
