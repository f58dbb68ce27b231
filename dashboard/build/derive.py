"""Derived columns and the query tables: every date comes from ``dashboard.deadlines``, applied once per
distinct input (``tables.apply_rule``); the macros and tables the page queries read."""

from __future__ import annotations

import datetime as dt
import logging
import time

import duckdb
import polars as pl

from dashboard import deadlines, queries
from dashboard.build import reuse
from dashboard.build.segments import Segments
from dashboard.build.tables import apply_rule, replace
from dashboard.policy import Policy
from dashboard.schema import ANCHORS

log = logging.getLogger(__name__)

# The SQL files that make the query tables, in order: the derived groups (``reuse.DERIVED``) and, made on
# every build, the view that joins the retention parts and what holds a record (it reads the records).
MADE_IN_ORDER = ("build_retention_helpdesk", "build_retention_billing", "build_retention_records",
                 "build_retention_figures", "build_consent_spans", "build_holds")


def derive(con: duckdb.DuckDBPyConnection, policy: Policy, segments: Segments, keys: dict[str, str | None],
           unchanged: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every derived date from dashboard.deadlines, then the tables and macros the queries read. A derived
    group named in ``unchanged`` (its fingerprint in ``keys`` is the one the live snapshot recorded) is
    reused: its segment attached as it is, or, kept in the snapshot file, its tables copied from the live
    snapshot. The others are made, each kept in a segment into a new one. Returns the tables reused."""
    con.execute(queries.sql("build_rules"))
    _request_dates_table(con, policy)
    _retention_dates(con, policy)
    _rule_tables(con, policy)
    reused: tuple[str, ...] = ()
    for name in MADE_IN_ORDER:
        started = time.monotonic()
        group = reuse.DERIVED.get(name)
        key = keys.get(reuse.DERIVED_PREFIX + name)
        in_segment = bool(group and group.segment and key)
        if in_segment and name in unchanged and segments.attach(name, key, group.makes):
            reused += group.makes
        elif in_segment:
            with segments.write(name, key, group.makes):
                con.execute(queries.sql(name))
        elif name in unchanged:
            reuse.copy_derived(con, name)
            reused += group.makes
        else:
            con.execute(queries.sql(name))
        # Where a build's time goes, step by step, in the log of every refresh (docs/PERFORMANCE.md).
        log.info("%s: %s in %.1f s", name, "reused" if group and group.makes[0] in reused else "made",
                 time.monotonic() - started)
    # R2.2: the 72-hour deadline, exactly, in UTC.
    apply_rule(con, "_breach_deadlines", "SELECT DISTINCT aware_at FROM incidents WHERE aware_at IS NOT NULL",
           lambda aware: (deadlines.breach_notification_deadline(aware),),
           {"notification_deadline": pl.Datetime("us", "UTC")})
    replace(con, "incidents", """
        SELECT i.*, b.notification_deadline FROM incidents i LEFT JOIN _breach_deadlines b USING (aware_at)""")
    con.execute(queries.sql("build_macros"))
    return reused


def _request_dates_table(con, policy: Policy) -> None:
    """R1.2, R1.3-R1.6, R1.9: each request's Berlin receipt date, binding deadline and on-time answer."""
    replace(con, "requests", """
        SELECT *, berlin_date(received_at) AS received_date,
               berlin_date(extension_notified_at) AS extension_notified_date, berlin_date(closed_at) AS closed_date
        FROM requests""")
    apply_rule(con, "_req_deadlines",
           "SELECT DISTINCT received_date, extension_notified_date FROM requests",
           lambda received, notified: _request_dates(received, notified, policy),
           {"raw_due": pl.Date, "due": pl.Date, "extended_due": pl.Date, "extension": pl.String,
            "deadline": pl.Date})
    replace(con, "requests", """
        SELECT r.*, d.raw_due, d.due, d.extended_due, d.extension, d.deadline
        FROM requests r JOIN _req_deadlines d
          ON r.received_date = d.received_date
         AND r.extension_notified_date IS NOT DISTINCT FROM d.extension_notified_date""")
    apply_rule(con, "_req_on_time", "SELECT DISTINCT status, closed_date, deadline FROM requests",
           lambda status, closed, deadline: (deadlines.answered_on_time(status, closed, deadline),),
           {"answered_on_time": pl.Boolean})
    replace(con, "requests", """
        SELECT r.*, o.answered_on_time FROM requests r JOIN _req_on_time o
          ON r.status = o.status AND r.deadline = o.deadline
         AND r.closed_date IS NOT DISTINCT FROM o.closed_date""")


def _retention_dates(con, policy: Policy) -> None:
    """R3.1/R3.2: the retained-until date of every anchor date that occurs, per policy category
    (``retention_ends``); build_retention_helpdesk.sql and _billing.sql join it to the records. The governed tables
    themselves are not rewritten: adding a column to 10M tickets cost a full copy (9 s)."""
    con.execute("CREATE TABLE retention_ends (anchor VARCHAR, category VARCHAR, anchor_date DATE, retained_until DATE)")
    for category, rule in policy.retention.items():
        table, anchor_date = ANCHORS[rule.anchor]
        apply_rule(con, "_ends", f"SELECT DISTINCT {anchor_date} AS anchor_date FROM {table} "
                             f"WHERE {anchor_date} IS NOT NULL",
               lambda anchor, c=category: (deadlines.retention_end(c, anchor, policy),), {"retained_until": pl.Date})
        con.execute("INSERT INTO retention_ends SELECT $anchor, $category, anchor_date, retained_until FROM _ends",
                    {"anchor": rule.anchor, "category": category})
        con.execute("DROP TABLE _ends")


def _rule_tables(con, policy: Policy) -> None:
    """The policy facts the derived tables read: which categories carry a statutory duty (section 5)
    and the rule settings in force, recorded in the snapshot with what they decided."""
    con.execute("CREATE TABLE policy_categories (category VARCHAR, statutory_duty BOOLEAN)")
    con.executemany("INSERT INTO policy_categories VALUES (?, ?)",
                    [(c, r.statutory_duty) for c, r in policy.retention.items()])
    con.execute("CREATE TABLE rule_settings AS SELECT $grace::INTEGER AS erasure_grace_days",
                {"grace": policy.settings.erasure_grace_days})


def _request_dates(received: dt.date, notified: dt.date | None, policy: Policy) -> tuple:
    d = deadlines.request_deadline(received, notified, policy)
    return (deadlines.request_raw_due_date(received), d.due, d.extended_due, d.extension, d.deadline)
