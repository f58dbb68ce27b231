-- R3.6 on $as_of: erasure requests completed more than the grace days ago whose subject's data is
-- still here: each record of a category without statutory duty, and the contact's master data
-- unless R3.5 still keeps it. $request_id NULL: every request. One row per remaining item, with
-- the request, its completion date and the system that still holds it.
WITH done AS (
    SELECT request_id, closed_date, contact_id FROM requests
    WHERE "right" = 'erasure' AND status = 'completed' AND closed_date IS NOT NULL AND contact_id IS NOT NULL
      AND ($request_id IS NULL OR request_id = $request_id)
      AND erasure_not_carried_out(false, closed_date, closed_date, (SELECT erasure_grace_days FROM rule_settings),
                                  $as_of::DATE)
)
SELECT d.request_id, d.closed_date AS erasure_date, e.contact_id, e.system, e.record_type, e.record_id,
       e.category, e.retained_until
FROM done d JOIN erasure_on($as_of::DATE) e ON e.erasure_ref = d.request_id
UNION ALL
SELECT d.request_id, d.closed_date, d.contact_id, 'helpdesk', 'contact', NULL, 'master_data', NULL
FROM done d
WHERE d.contact_id IN (SELECT contact_id FROM deletable_on($as_of::DATE))
ORDER BY erasure_date, request_id, system, record_type, record_id;
