-- One row per record that a retention rule governs, with its anchor date and retained-until date
-- (retention_ends: computed by dashboard.deadlines.retention_end during the build), the day it came into being
-- (a look back ignores records that did not exist yet) and whether a statute obliges keeping it
-- (policy_categories, from the policy). Sorted by retained-until so that date filters skip whole
-- row groups. Status is decided per query, because it depends on the chosen date and on holds.
-- What this file builds reads only the governed tables and the policy: a refresh in which none of them
-- changed copies it from the live snapshot (dashboard.build.reuse.DERIVED); what holds a record is
-- built on every refresh (build_holds.sql).
CREATE TEMP TABLE _governed AS
WITH ticket_bytes AS (
    -- BIGINT, not sum()'s HUGEINT: half the width to sort and store (a ticket's bytes fit many times over).
    SELECT ticket_id, sum(size_bytes)::BIGINT AS attachment_bytes FROM attachments GROUP BY ticket_id
), governed AS (
    SELECT e.category, 'helpdesk' AS system, 'ticket' AS record_type, t.ticket_id AS record_id, t.contact_id,
           e.anchor_date, e.retained_until, coalesce(b.attachment_bytes, 0) AS attachment_bytes,
           berlin_date(t.opened_at) AS created_date
    FROM tickets t JOIN retention_ends e
      ON e.anchor = 'ticket_closed' AND e.anchor_date = ticket_closed_date(t.status, t.closed_at)
    LEFT JOIN ticket_bytes b USING (ticket_id)
    UNION ALL
    SELECT e.category, 'billing', 'contract', c.contract_id, c.contact_id, e.anchor_date, e.retained_until, 0,
           c.start_date
    FROM contracts c JOIN retention_ends e ON e.anchor = 'contract_end' AND e.anchor_date = c.end_date
    UNION ALL
    SELECT e.category, 'billing', 'invoice', i.invoice_id, i.contact_id, e.anchor_date, e.retained_until, 0,
           i.invoice_date
    FROM invoices i JOIN retention_ends e ON e.anchor = 'invoice_date' AND e.anchor_date = i.invoice_date
)
SELECT g.*, coalesce(p.statutory_duty, false) AS statutory_duty
FROM governed g LEFT JOIN policy_categories p USING (category);

-- Sorted in a statement of its own: sorting 22M rows while the join's hash tables are held needs more
-- memory than the build may use (docs/PERFORMANCE.md), while from a table the sort spills to disk.
CREATE TABLE retention_records AS SELECT * FROM _governed ORDER BY retained_until;
DROP TABLE _governed;

-- The same records counted per day: the figures and the forecast need no row-by-row pass.
CREATE TABLE retention_daily AS
SELECT category, system, retained_until, count(*) AS records, sum(attachment_bytes) AS attachment_bytes
FROM retention_records GROUP BY ALL;

-- R3.5 per data subject: how many governed records, the last retained-until date, and the day the
-- newest of them came into being (a look back before that day recounts the subject from its records).
CREATE TABLE subject_retention AS
SELECT contact_id, count(*) AS records, max(retained_until) AS last_retained_until,
       max(created_date) AS last_created
FROM retention_records GROUP BY contact_id;

-- R3.5 per data subject: what still runs without a retention clock (an open ticket, a contract
-- without an end) and since when, so that a look back sees what ran on that day.
CREATE TABLE subject_running AS
SELECT contact_id, min(berlin_date(opened_at)) AS since
FROM tickets WHERE ticket_closed_date(status, closed_at) IS NULL GROUP BY ALL
UNION ALL
SELECT contact_id, min(start_date) FROM contracts WHERE end_date IS NULL GROUP BY ALL;
