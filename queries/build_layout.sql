-- The snapshot's own tables: what a build records about itself, beside the canonical tables
-- (dashboard/schema.py) and the derived ones (the other build_*.sql). The build creates them first and
-- fills them as it goes (dashboard/build). dashboard.snapshot.LAYOUT is the version of everything a
-- snapshot holds for the queries; what each version changed:
-- 9 (2026-12-06, DOMAIN.md amendments of R1.8 and R3.4, section 5): is_open_request takes the closing
--   date (a closed duplicate is closed), request_open_on and record_exists are rules of their own,
--   hold_sources holds a completed erasure request's statutory records without a hold row, and every
--   retention figure of a look back leaves out the records that did not exist yet. The KPI history's
--   points move with it (history.RULES 3).
-- 10 (2026-12-07): requests carry subject_email (a representative's request names its subject);
--   source_findings records the table whose reading found it (copied with the table when unchanged)
--   and the helpdesk's deletion rule held against the policy.
-- 11 (2026-12-07): deletion_tasks (a system's own proof of a deletion), erasure_subjects (the ids
--   an erasure request's subject had, remembered from snapshot to snapshot) and erasure_proofs.
-- 12 (2026-12-07): hold reasons the rules derive are codes, with the request or incident in
--   hold_links.ref; the macros berlin_date, berlin_time and berlin_midnight (the page queries use
--   them: Europe/Berlin is said once, in dashboard/sqltext.py).
-- 13 (2026-12-07): the large tables live in segments (snapshot_segments; dashboard/build/segments.py),
--   the snapshot holds views over them; retention_records is a view over its two parts,
--   retention_helpdesk and retention_billing.

-- Rows validation set aside, with the reason (Datenqualität); never silently away.
CREATE TABLE rejected_rows (table_name VARCHAR, source VARCHAR, record_key VARCHAR, source_row BIGINT, reason VARCHAR);
-- What reading a table found about its store itself (dashboard.schema.SOURCE_FINDINGS), with that table.
CREATE TABLE source_findings (source VARCHAR, finding VARCHAR, subject VARCHAR, table_name VARCHAR);
-- Per canonical table, the fingerprint of what it was read from (dashboard/build/reuse.py).
CREATE TABLE source_fingerprints (table_name VARCHAR, fingerprint VARCHAR);
-- Per canonical table: its system, its sources and the rows read, accepted and rejected.
CREATE TABLE snapshot_tables (table_name VARCHAR, system VARCHAR, source VARCHAR, rows_read BIGINT, accepted BIGINT,
                              rejected BIGINT);
-- The segments whose tables this snapshot's views read: attached under ``alias``, file in snapshots/segments/.
CREATE TABLE snapshot_segments (alias VARCHAR, file VARCHAR);
-- One row: when, under which policy and app version, from which sources, in which layout.
CREATE TABLE snapshot_meta (built_at TIMESTAMPTZ, policy_version VARCHAR, policy_effective DATE, app_version VARCHAR,
                            build_seconds DOUBLE, sources VARCHAR, layout INTEGER, demo_only BOOLEAN,
                            fed_by VARCHAR[]);
