"""The policy file says what the privacy notice says, and a wrong value fails loudly."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from dashboard.paths import DEFAULT_POLICY_FILE
from dashboard.policy import PolicyError, load_policy, parse_policy


def test_default_policy_matches_notice():
    policy = load_policy()
    rules = {c: (r.period, r.unit, r.from_end_of_year) for c, r in policy.retention.items()}
    assert rules == {
        "support_communication": (6, "months", False),
        "contract": (2, "years", False),
        "billing": (10, "years", True),
    }
    assert policy.version and policy.effective_date == dt.date(2025, 1, 1)
    assert policy.settings.due_soon_days == 7 and policy.settings.approaching_days == 30
    assert policy.settings.breach_warning_hours == 24


def _raw():
    return tomllib.loads(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda r: r["retention"]["contract"].update(unit="weeks"), r"retention\.contract\.unit: got 'weeks'"),
    (lambda r: r["retention"]["billing"].update(period=-1), r"retention\.billing\.period: got -1"),
    (lambda r: r["retention"].pop("contract"), r"retention\.contract: missing"),
    (lambda r: r["settings"].update(due_soon_days="7"), r"settings\.due_soon_days: got '7'"),
    (lambda r: r["settings"].update(extra_holidays=["2026-06-01"]), r"settings\.extra_holidays"),
    (lambda r: r.pop("version"), r"\.version: missing"),
])
def test_invalid_policy_names_file_and_key(mutate, message):
    raw = _raw()
    mutate(raw)
    with pytest.raises(PolicyError, match=message) as info:
        parse_policy(raw, "policy-under-test.toml")
    assert "policy-under-test.toml" in str(info.value)


def test_extra_holiday_moves_deadline(tmp_path):
    from dashboard.deadlines import request_due_date

    raw = _raw()
    raw["settings"]["extra_holidays"] = [dt.date(2026, 5, 4)]
    policy = parse_policy(raw, "x")
    # received 2026-04-04 -> raw due Monday 2026-05-04, now a configured holiday -> Tuesday.
    assert request_due_date(dt.date(2026, 4, 4)) == dt.date(2026, 5, 4)
    assert request_due_date(dt.date(2026, 4, 4), policy) == dt.date(2026, 5, 5)


def test_missing_file():
    with pytest.raises(PolicyError, match="not found"):
        load_policy("/nonexistent/policy.toml")
