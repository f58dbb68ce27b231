-- Billing's part of retention_records (build_retention_records.sql): every ended contract from its end,
-- every invoice from its date.
CREATE TEMP TABLE _governed AS
WITH governed AS (
    SELECT e.category, 'billing' AS system, 'contract' AS record_type, c.contract_id AS record_id, c.contact_id,
           e.anchor_date, e.retained_until, 0::BIGINT AS attachment_bytes, c.start_date AS created_date
    FROM contracts c JOIN retention_ends e ON e.anchor = 'contract_end' AND e.anchor_date = c.end_date
    UNION ALL
    SELECT e.category, 'billing', 'invoice', i.invoice_id, i.contact_id, e.anchor_date, e.retained_until, 0,
           i.invoice_date
    FROM invoices i JOIN retention_ends e ON e.anchor = 'invoice_date' AND e.anchor_date = i.invoice_date
)
SELECT g.*, coalesce(p.statutory_duty, false) AS statutory_duty
FROM governed g LEFT JOIN policy_categories p USING (category);

-- Sorted in a statement of its own: sorting millions of rows while the join's hash tables are held needs
-- more memory than the build may use (docs/PERFORMANCE.md), while from a table the sort spills to disk.
CREATE TABLE retention_billing AS SELECT * FROM _governed ORDER BY retained_until;
DROP TABLE _governed;
