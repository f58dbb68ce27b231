-- Erasure proof: which deletion task carries out which erasure request. A system that
-- deleted a person no longer knows them, so a task is matched by the ids the request's subject had in
-- this snapshot or any earlier one: erasure_subjects remembers, per erasure request, every contact id
-- (per contacts source) and ticket id its subject was seen with, carried from the live snapshot
-- (_erasure_memory, filled by dashboard.snapshot) for as long as the request is in the register.
-- Never matched by name (Zammad keeps only a pseudonym of it).
CREATE TABLE erasure_subjects AS
WITH erasures AS (
    SELECT request_id, contact_id FROM requests WHERE "right" = 'erasure' AND contact_id IS NOT NULL
)
SELECT DISTINCT * FROM (
    SELECT e.request_id, 'subject' AS record_type, i.source, i.source_contact_id AS record_id
    FROM erasures e JOIN contact_identities i ON i.contact_id = e.contact_id
    UNION ALL
    SELECT e.request_id, 'ticket', NULL, t.ticket_id FROM erasures e JOIN tickets t ON t.contact_id = e.contact_id
    UNION ALL
    SELECT request_id, record_type, source, record_id FROM _erasure_memory
    WHERE request_id IN (SELECT request_id FROM requests WHERE "right" = 'erasure')
)
ORDER BY request_id, record_type, source, record_id;

-- A task proves the erasure request of its subject received last before the task was created (a
-- deletion before the request is no answer to it); a confirmation that names its request proves that one.
CREATE TABLE erasure_proofs AS
WITH matched AS (
    SELECT s.request_id, d.task_id, d.system
    FROM deletion_tasks d
    JOIN erasure_subjects s ON s.record_type = d.record_type AND s.record_id = d.record_id
     AND (d.record_type = 'ticket' OR s.source = d.source)
    JOIN requests r ON r.request_id = s.request_id AND r.received_at <= d.created_at
    QUALIFY row_number() OVER (PARTITION BY d.system, d.task_id ORDER BY r.received_at DESC, r.request_id) = 1
    UNION ALL
    SELECT r.request_id, d.task_id, d.system
    FROM deletion_tasks d JOIN requests r ON d.record_type = 'request' AND r.request_id = d.record_id
     AND r."right" = 'erasure'
)
SELECT m.request_id, d.task_id, d.system, d.record_type, d.state, d.created_at, d.completed_at, d.last_seen_at
FROM matched m JOIN deletion_tasks d USING (system, task_id)
ORDER BY m.request_id, d.system, d.created_at, d.task_id;
