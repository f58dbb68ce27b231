-- Deletions a system did not finish: a failed task, or one still in process more than a
-- day after it was created, at $now; with the erasure request it carries out, where known.
SELECT d.task_id, d.system, d.record_type, d.state, d.created_at, p.request_id
FROM deletion_tasks d LEFT JOIN erasure_proofs p USING (system, task_id)
WHERE d.created_at <= $now::TIMESTAMPTZ
  AND (d.state = 'failed' OR (d.state = 'in_process' AND d.created_at < $now::TIMESTAMPTZ - INTERVAL 1 DAY))
ORDER BY d.created_at, d.system, d.task_id;
