"""People across systems, and what needs every source read first: a representative's request gets its
subject, the helpdesk's deletion rule is held against the policy, deletion tasks find their erasure
requests."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from dashboard import helpdesk_rules, queries
from dashboard.build.tables import replace
from dashboard.ingest.config import TableSource
from dashboard.policy import Policy
from dashboard.schema import TABLES, subject_tables
from dashboard.sqltext import identifier, literal

log = logging.getLogger(__name__)


def resolve_people(con: duckdb.DuckDBPyConnection, table_sources: dict[str, tuple[TableSource, ...]]) -> None:
    """One person, one ``contact_id`` in every table (queries/build_identities.sql says how people are
    matched). With a single contacts source every id is already its own person; with several, the
    contacts are merged into one row per person and every table fed by a contacts source has its
    contact ids replaced by the person's. Tables fed only by other sources (billing, the privacy
    register) use the ids as given (docs/CONNECTORS.md) and are left as they are."""
    con.execute(queries.sql("build_identities"))
    names = [ts.source for ts in table_sources["contacts"]]
    carrying = [t for t in TABLES if keeps_source(t.name, table_sources)]
    if len(names) > 1:
        con.execute(queries.sql("build_people"))
        for table in carrying:
            if table.name == "contacts":  # replaced by one row per person below
                continue
            column = subject_tables()[table.name]
            col = identifier(column)
            subject = "" if column == "contact_id" else " AND t.record_type = 'subject'"
            replace(con, table.name, f"""
                SELECT t.* REPLACE (CASE WHEN list_contains($names, t._source){subject}
                                         THEN coalesce(i.contact_id, t._source || ':' || t.{col})
                                         ELSE t.{col} END AS {col})
                FROM {table.name} t LEFT JOIN contact_identities i
                  ON i.source = t._source AND i.source_contact_id = t.{col}
                ORDER BY t.rowid""", {"names": names})
        replace(con, "contacts", "SELECT * FROM _people ORDER BY contact_id")
    for table in carrying:
        con.execute(f"ALTER TABLE {identifier(table.name)} DROP COLUMN _source")
        con.execute(f"ALTER TABLE {identifier(table.name)} DROP COLUMN _rank")


def keeps_source(table: str, table_sources: dict[str, tuple[TableSource, ...]]) -> bool:
    """Whether ``table``'s rows carry their source (``_source``, ``_rank``) until people are resolved:
    contacts always; with several contacts sources, every table that one of them feeds and that names
    a data subject (its contact ids become the merged person's, so the snapshot does not hold them as
    read)."""
    if table == "contacts":
        return True
    people = table_sources["contacts"]
    return (len(people) > 1 and table in subject_tables()
            and any(ts.source in {p.source for p in people} for ts in table_sources.get(table, ())))


def register_findings(con, table_sources: dict[str, tuple[TableSource, ...]], policy: Policy) -> None:
    """What needs every source read first: a representative's request gets the person its
    ``subject_email`` names (queries/build_request_subjects.sql), and the helpdesk's deletion rules are
    held against the policy (dashboard.helpdesk_rules)."""
    source = ", ".join(ts.source for ts in table_sources.get("requests", ()))
    con.execute("SET VARIABLE requests_source = ?", [source])
    con.execute(queries.sql("build_request_subjects"))
    for source, subject in con.sql("SELECT source, subject FROM source_findings WHERE finding = 'deletion_rule'"
                                   ).fetchall():
        rule = helpdesk_rules.DeletionRule.from_json(subject)
        if rule.active and helpdesk_rules.differs(rule, policy):
            con.execute("INSERT INTO source_findings VALUES (?, 'deletion_rule_differs', ?, 'tickets')",
                        [source, subject])


def erasure_proofs(con, live: Path | None) -> None:
    """Match deletion tasks to erasure requests (queries/build_erasure_proofs.sql) by the ids their
    subjects had here or in the ``live`` snapshot's memory, which it carries on. A live snapshot that
    cannot be read, or one from before the memory existed, only means no earlier ids: said in the log."""
    con.execute("CREATE TEMP TABLE _erasure_memory (request_id VARCHAR, record_type VARCHAR, source VARCHAR, "
                "record_id VARCHAR)")
    if live is not None:
        try:
            con.execute(f"ATTACH {literal(str(live))} AS _memory (READ_ONLY)")
        except duckdb.Error as exc:
            log.warning("live snapshot unreadable (%s): erasure proof matched by today's ids only",
                        type(exc).__name__)
        else:
            try:
                if con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = '_memory' "
                           "AND table_name = 'erasure_subjects'").fetchall()[0][0]:
                    con.execute("INSERT INTO _erasure_memory SELECT request_id, record_type, source, record_id "
                                "FROM _memory.erasure_subjects")
            finally:
                con.execute("DETACH _memory")
    con.execute(queries.sql("build_erasure_proofs"))
    con.execute("DROP TABLE _erasure_memory")
