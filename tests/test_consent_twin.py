"""The consent query's "latest event wins" (R4.2, in SQL for scale) agrees with deadlines.consent_state."""

from __future__ import annotations

import collections
import datetime as dt
import random

from dashboard import data
from dashboard.build import build_snapshot
from dashboard.deadlines import BERLIN, consent_state
from dashboard.snapshot import connect as open_snapshot
from tests.helpers import write_store

AS_OF = dt.date(2026, 6, 30)
ACTIONS = {"newsletter": ("requested", "confirmed", "withdrawn"), "extended_analytics": ("granted", "withdrawn")}


def test_consent_counts_match_python_rule(tmp_path):
    rng = random.Random(11)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    events = []
    for subject in range(400):
        for purpose, actions in ACTIONS.items():
            for _ in range(rng.randint(0, 5)):
                # Whole days over ~7 months: ties at the same instant are common, some events are after AS_OF.
                at = start + dt.timedelta(days=rng.randint(0, 212))
                action = rng.choice(actions)
                copies = 2 if rng.random() < 0.1 else 1  # duplicates, as exports contain them
                events += [(f"C{subject}", purpose, action, at)] * copies
    rng.shuffle(events)  # out of order in the source
    rows = [{"event_id": f"E{i}", "contact_id": c, "purpose": p, "action": a, "occurred_at": at.isoformat(),
             "notice_version": "2025-01", "channel": "web"} for i, (c, p, a, at) in enumerate(events)]
    con = open_snapshot(build_snapshot(write_store(tmp_path / "src", {"consent_events": rows}),
                                            data_dir=tmp_path / "data").path)

    history = collections.defaultdict(list)
    for contact, purpose, action, at in events:
        if at.astimezone(BERLIN).date() <= AS_OF:
            history[(contact, purpose)].append((at, action))
    expected = collections.Counter((purpose, consent_state(evs)) for (_, purpose), evs in history.items())

    got = {r["purpose"]: r for r in data.run(con, "consent_summary", as_of=AS_OF).iter_rows(named=True)}
    for purpose in ACTIONS:
        row = got[purpose]
        assert row["asked"] == sum(n for (p, _), n in expected.items() if p == purpose)
        assert (row["active"], row["pending"], row["withdrawn"]) == (
            expected[(purpose, "active")], expected[(purpose, "pending")], expected[(purpose, "withdrawn")])

    # The monthly trend derives each month's state from event spans; it must agree with the rule too.
    monthly = data.run(con, "consent_monthly", as_of=AS_OF, channels=[])
    for month_end in (dt.date(2026, 2, 28), dt.date(2026, 4, 30), AS_OF):
        states = collections.Counter()
        for (_, purpose), evs in history.items():
            seen = [(at, a) for at, a in evs if at.astimezone(BERLIN).date() <= month_end]
            if seen:
                states[(purpose, "asked")] += 1
                states[(purpose, consent_state(seen))] += 1
        month = month_end.replace(day=1)
        for purpose in ACTIONS:
            row = monthly.filter((monthly["month"] == month) & (monthly["purpose"] == purpose)).row(0, named=True)
            assert (row["asked"], row["active"]) == (states[(purpose, "asked")], states[(purpose, "active")])
