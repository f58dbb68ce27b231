-- R4.2: each consent event (duplicates removed) with the state it starts and how long that state
-- lasts: from its Europe/Berlin day until the day of the pair's next event (next_day, exclusive).
-- At the same instant the later lifecycle step wins (withdrawn > confirmed/granted > requested),
-- as in deadlines.consent_state. Alongside, the proof of the current consent cycle as of the event
-- (the events after the last withdrawal): notice version, channel, when requested, confirmed, given.
-- consent_on(as_of) then picks, per pair, the one span that covers as_of.
CREATE TABLE consent_spans AS
WITH e AS (
    SELECT DISTINCT contact_id, purpose, action, occurred_at, notice_version, channel,
           coalesce(inferred, false) AS inferred,
           timezone('Europe/Berlin', occurred_at)::DATE AS day,
           CASE action WHEN 'requested' THEN 0 WHEN 'withdrawn' THEN 2 ELSE 1 END AS step
    FROM consent_events
), ordered AS (
    SELECT *,
           row_number() OVER pair_order AS seq,
           lead(day) OVER pair_order AS next_day,
           lead(action) OVER pair_order AS next_action,
           first_value(occurred_at) OVER pair_order AS first_asked_at,
           first_value(channel) OVER pair_order AS signup_channel,
           -- a withdrawal ends its cycle: the cycle number counts withdrawals up to and including the row
           sum(CASE WHEN action = 'withdrawn' THEN 1 ELSE 0 END) OVER (pair_order ROWS UNBOUNDED PRECEDING) AS cycle
    FROM e
    -- Same instant, same step (a duplicate sent twice, once without its notice version): the one
    -- carrying proof counts last, so every build orders them alike and the proof is never lost.
    WINDOW pair_order AS (PARTITION BY contact_id, purpose ORDER BY occurred_at, step, notice_version NULLS FIRST,
                                                                    channel NULLS FIRST, inferred)
)
SELECT contact_id, purpose, action, occurred_at, day, next_day, next_action, seq,
       CASE action WHEN 'requested' THEN 'pending' WHEN 'withdrawn' THEN 'withdrawn' ELSE 'active' END AS state,
       first_asked_at, signup_channel,
       max(CASE WHEN action = 'withdrawn' THEN occurred_at END) OVER pair_so_far AS withdrawn_at,
       max(CASE WHEN action = 'requested' THEN occurred_at END) OVER cycle_so_far AS requested_at,
       max(CASE WHEN action = 'confirmed' THEN occurred_at END) OVER cycle_so_far AS confirmed_at,
       max(CASE WHEN action IN ('granted', 'confirmed') THEN occurred_at END) OVER cycle_so_far AS given_at,
       last_value(CASE WHEN action <> 'withdrawn' THEN notice_version END IGNORE NULLS) OVER cycle_so_far
           AS proof_version,
       last_value(CASE WHEN action <> 'withdrawn' THEN channel END IGNORE NULLS) OVER cycle_so_far AS proof_channel,
       -- the latest grant or confirmation of the cycle was reconstructed by the consent ledger
       last_value(CASE WHEN action IN ('granted', 'confirmed') THEN inferred END IGNORE NULLS) OVER cycle_so_far
           AS proof_inferred
FROM ordered
WINDOW pair_so_far AS (PARTITION BY contact_id, purpose ORDER BY seq ROWS UNBOUNDED PRECEDING),
       cycle_so_far AS (PARTITION BY contact_id, purpose, cycle ORDER BY seq ROWS UNBOUNDED PRECEDING)
ORDER BY day;
