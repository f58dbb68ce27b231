-- One row per record that a retention rule governs, with its anchor date and retained-until date
-- (retention_ends: computed by dashboard.deadlines.retention_end during the build), the day it came into being
-- (a look back ignores records that did not exist yet) and whether a statute obliges keeping it
-- (policy_categories, from the policy). Status is decided per query, because it depends on the chosen date
-- and on holds.
-- The records come in two parts, each its own table sorted by retained-until so that date filters skip
-- whole row groups in both: the helpdesk's (build_retention_helpdesk.sql) and billing's
-- (build_retention_billing.sql). Each lives in a segment of its own (dashboard.build.segments): a refresh in
-- which one system's tables did not change attaches that part as it is and sorts only the other.
CREATE VIEW retention_records AS
SELECT * FROM retention_helpdesk
UNION ALL
SELECT * FROM retention_billing;
