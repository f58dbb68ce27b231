"""The helpdesk's own deletion rule (dashboard.helpdesk_rules): Zammad's scheduler jobs as Ruby writes
them, in the flat form of older versions and the nested one of newer ones, held against the policy."""

from __future__ import annotations

import pytest

from dashboard import helpdesk_rules
from dashboard.policy import load_policy

FLAT = """--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess
ticket.state_id: !ruby/hash:ActiveSupport::HashWithIndifferentAccess
  operator: is
  value:
  - '4'
ticket.close_at: !ruby/hash:ActiveSupport::HashWithIndifferentAccess
  operator: before (relative)
  value: '6'
  range: month
"""
NESTED = """---
operator: AND
conditions:
- name: ticket.state_id
  operator: is
  value: ['4']
- operator: OR
  conditions:
  - name: ticket.last_close_at
    operator: before (relative)
    value: '1'
    range: year
"""
DELETE = "---\nticket.action:\n  value: delete\n"
TASK = "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nticket.action: !ruby/hash:ActiveSupport::" \
       "HashWithIndifferentAccess\n  value: data_privacy_deletion_task\n"


def test_flat_and_nested_conditions_and_both_delete_actions():
    policy = load_policy()
    six = helpdesk_rules.parse_job("a", FLAT, DELETE, True, None, 3)
    assert (six.attribute, six.period, six.unit, six.months()) == ("ticket.close_at", 6, "month", 6)
    assert not helpdesk_rules.differs(six, policy)
    year = helpdesk_rules.parse_job("b", NESTED, TASK, True, None, 0)
    assert (year.attribute, year.months()) == ("ticket.last_close_at", 12)
    assert helpdesk_rules.differs(year, policy)
    assert helpdesk_rules.DeletionRule.from_json(year.to_json()) == year


def test_other_jobs_and_other_anchors():
    policy = load_policy()
    assert helpdesk_rules.parse_job("c", FLAT, "---\nticket.state_id:\n  value: '4'\n", True, None, 0) is None
    created = helpdesk_rules.parse_job("d", FLAT.replace("ticket.close_at", "ticket.created_at"), DELETE, True, None, 0)
    assert helpdesk_rules.differs(created, policy)  # counts from creation, not from closing
    days = helpdesk_rules.parse_job("e", FLAT.replace("range: month", "range: day").replace("'6'", "'180'"), DELETE,
                                    True, None, 0)
    assert days.months() is None and helpdesk_rules.differs(days, policy)


@pytest.mark.parametrize("condition, message", [
    ("ticket.close_at: [unclosed", "not YAML"),
    ("- a list", "not a mapping"),
    ("ticket.state_id:\n  operator: is\n  value: '4'\n", "without a 'before \\(relative\\)' condition"),
    (FLAT.replace("'6'", "'sechs'"), "is not a number"),
])
def test_unreadable_rules_are_named_never_guessed(condition, message):
    with pytest.raises(helpdesk_rules.Unreadable, match=message):
        helpdesk_rules.parse_job("x", condition, DELETE, True, None, 0)
