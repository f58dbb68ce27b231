-- One row per record that a retention rule governs, with its anchor date and retained-until date
-- (retention_ends: computed by dashboard.deadlines.retention_end during the build), the day it came into being
-- (a look back ignores records that did not exist yet) and whether a statute obliges keeping it
-- (policy_categories, from the policy). Status is decided per query, because it depends on the chosen date
-- and on holds.
-- The records come in two parts, each sorted by retained-until so that date filters skip whole row groups
-- in both: the helpdesk's (build_retention_helpdesk.sql) and billing's (build_retention_billing.sql). A
-- refresh in which one system's tables did not change copies that part from the live snapshot
-- (dashboard.build.reuse.DERIVED) and sorts only the other.
CREATE TABLE retention_records (category VARCHAR, system VARCHAR, record_type VARCHAR, record_id VARCHAR,
                                contact_id VARCHAR, anchor_date DATE, retained_until DATE, attachment_bytes BIGINT,
                                created_date DATE, statutory_duty BOOLEAN);
