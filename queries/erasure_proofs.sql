-- The erasure proof for the accountability file (Art. 5(2)): every completed erasure request with each
-- system's own record of the deletion (deletion task, its state and times), one row per task; a
-- request no system confirms has one row without a task. $request_id NULL: every request. No
-- personal data: request and task ids, systems, states, times.
SELECT r.request_id, r.closed_date, p.system, p.task_id, p.record_type, p.state, p.created_at, p.completed_at,
       p.last_seen_at
FROM requests r LEFT JOIN erasure_proofs p USING (request_id)
WHERE r."right" = 'erasure' AND r.status = 'completed'
  AND ($request_id IS NULL OR r.request_id = $request_id)
ORDER BY r.closed_date DESC NULLS LAST, r.request_id, p.system, p.created_at, p.task_id;
