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
           berlin_date(occurred_at) AS day,
           CASE action WHEN 'requested' THEN 0 WHEN 'withdrawn' THEN 2 ELSE 1 END AS step
    FROM consent_events
), ordered AS (
    -- One pass over each pair in order. A withdrawal ends its cycle: the proof of the current cycle
    -- is what came strictly after the pair's last withdrawal so far (a withdrawal sorts after every
    -- other step of its instant, so nothing of its cycle shares its instant).
    SELECT *,
           row_number() OVER pair_order AS seq,
           lead(day) OVER pair_order AS next_day,
           lead(action) OVER pair_order AS next_action,
           first_value(occurred_at) OVER pair_order AS first_asked_at,
           first_value(channel) OVER pair_order AS signup_channel,
           max(CASE WHEN action = 'withdrawn' THEN occurred_at END) OVER so_far AS withdrawn_at,
           max(CASE WHEN action = 'requested' THEN occurred_at END) OVER so_far AS last_requested,
           max(CASE WHEN action = 'confirmed' THEN occurred_at END) OVER so_far AS last_confirmed,
           max(CASE WHEN action IN ('granted', 'confirmed') THEN occurred_at END) OVER so_far AS last_given,
           last_value(CASE WHEN action <> 'withdrawn' AND notice_version IS NOT NULL
                           THEN {'at': occurred_at, 'value': notice_version} END IGNORE NULLS) OVER so_far AS last_version,
           last_value(CASE WHEN action <> 'withdrawn' AND channel IS NOT NULL
                           THEN {'at': occurred_at, 'value': channel} END IGNORE NULLS) OVER so_far AS last_channel,
           -- the latest grant or confirmation of the cycle was reconstructed by the consent ledger
           last_value(CASE WHEN action IN ('granted', 'confirmed')
                           THEN {'at': occurred_at, 'value': inferred} END IGNORE NULLS) OVER so_far AS last_inferred
    FROM e
    -- Same instant, same step (a duplicate sent twice, once without its notice version): the one
    -- carrying proof counts last, so every build orders them alike and the proof is never lost.
    WINDOW pair_order AS (PARTITION BY contact_id, purpose ORDER BY occurred_at, step, notice_version NULLS FIRST,
                                                                    channel NULLS FIRST, inferred),
           so_far AS (pair_order ROWS UNBOUNDED PRECEDING)
)
SELECT contact_id, purpose, action, occurred_at, day, next_day, next_action, seq,
       CASE action WHEN 'requested' THEN 'pending' WHEN 'withdrawn' THEN 'withdrawn' ELSE 'active' END AS state,
       first_asked_at, signup_channel, withdrawn_at,
       CASE WHEN withdrawn_at IS NULL OR last_requested > withdrawn_at THEN last_requested END AS requested_at,
       CASE WHEN withdrawn_at IS NULL OR last_confirmed > withdrawn_at THEN last_confirmed END AS confirmed_at,
       CASE WHEN withdrawn_at IS NULL OR last_given > withdrawn_at THEN last_given END AS given_at,
       CASE WHEN withdrawn_at IS NULL OR last_version.at > withdrawn_at THEN last_version.value END AS proof_version,
       CASE WHEN withdrawn_at IS NULL OR last_channel.at > withdrawn_at THEN last_channel.value END AS proof_channel,
       CASE WHEN withdrawn_at IS NULL OR last_inferred.at > withdrawn_at THEN last_inferred.value END AS proof_inferred
FROM ordered;  -- unsorted: a date's spans are found as fast as in a table sorted by day (0.06 s on 4.9M)
