-- The helpdesk's part of retention_records (build_retention_records.sql): every closed ticket, with the
-- bytes of its attachments, from the day it closed.
CREATE TEMP TABLE _governed AS
WITH ticket_bytes AS (
    -- BIGINT, not sum()'s HUGEINT: half the width to sort and store (a ticket's bytes fit many times over).
    SELECT ticket_id, sum(size_bytes)::BIGINT AS attachment_bytes FROM attachments GROUP BY ticket_id
)
SELECT e.category, 'helpdesk' AS system, 'ticket' AS record_type, t.ticket_id AS record_id, t.contact_id,
       e.anchor_date, e.retained_until, coalesce(b.attachment_bytes, 0) AS attachment_bytes,
       berlin_date(t.opened_at) AS created_date, coalesce(p.statutory_duty, false) AS statutory_duty
FROM tickets t JOIN retention_ends e
  ON e.anchor = 'ticket_closed' AND e.anchor_date = ticket_closed_date(t.status, t.closed_at)
LEFT JOIN ticket_bytes b USING (ticket_id)
LEFT JOIN policy_categories p ON p.category = e.category;

-- Sorted in a statement of its own: sorting millions of rows while the join's hash tables are held needs
-- more memory than the build may use (docs/PERFORMANCE.md), while from a table the sort spills to disk.
CREATE TABLE retention_helpdesk AS SELECT * FROM _governed ORDER BY retained_until;
DROP TABLE _governed;
