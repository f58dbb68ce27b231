-- What happened to one request, in order: recorded events and pauses.
SELECT occurred_at, event, detail FROM request_events WHERE request_id = $request_id
UNION ALL
SELECT berlin_midnight(start_date), 'pause_started', reason
FROM request_pauses WHERE request_id = $request_id
UNION ALL
SELECT berlin_midnight(end_date), 'pause_ended', reason
FROM request_pauses WHERE request_id = $request_id AND end_date IS NOT NULL
ORDER BY 1, 2;
