"""The helpdesk's own deletion rule, held against the retention policy.

Zammad's scheduler (``jobs``) may already delete old tickets: a job on tickets whose action is
``delete`` (or ``data_privacy_deletion_task``) with a condition "closed ``before (relative)`` N months".
If its period is not the policy's (support communication: 6 months after closing), the helpdesk deletes
too early or too late whatever the cockpit shows; if there is none, the cockpit's radar is the only
safeguard. Conditions and actions are YAML written by Ruby (``!ruby/hash:...`` tags), in the flat form
of older versions (``{"ticket.close_at": {...}}``) or the nested one of newer ones (``{"operator": "AND",
"conditions": [...]}``); anything else is "unreadable", never a guess.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import yaml

from dashboard.errors import DashboardError
from dashboard.policy import Policy

DELETE_ACTIONS = ("delete", "data_privacy_deletion_task")
# The ticket times a "closed N months ago" condition may count from.
CLOSE_ATTRIBUTES = ("ticket.close_at", "ticket.last_close_at")
MONTHS_PER = {"month": 1, "year": 12}


class _RubyLoader(yaml.SafeLoader):
    """YAML with Ruby's type tags read as the plain mappings, lists and strings they tag."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_RubyLoader.add_multi_constructor("!", _untagged)


@dataclass(frozen=True)
class DeletionRule:
    name: str
    attribute: str  # the ticket time it counts from
    period: int
    unit: str  # Zammad's range: day, week, month, year, ...
    active: bool
    last_run: str | None  # ISO timestamp
    processed: int | None

    def months(self) -> int | None:
        """The period in months, when it is a whole number of months."""
        return self.period * MONTHS_PER[self.unit] if self.unit in MONTHS_PER else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> DeletionRule:
        return DeletionRule(**json.loads(text))


class Unreadable(DashboardError, ValueError):
    """A job's condition or action could not be read as YAML of the known forms."""


def _load(text: str | None) -> dict:
    try:
        value = yaml.load(text or "{}", Loader=_RubyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise Unreadable(f"not YAML ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise Unreadable("not a mapping")
    return value


def _conditions(condition: dict) -> list[tuple[str, dict]]:
    """(attribute, its test) pairs of a flat or a nested condition."""
    if "conditions" in condition:
        found = []
        for item in condition.get("conditions") or []:
            if isinstance(item, dict) and "conditions" in item:
                found.extend(_conditions(item))
            elif isinstance(item, dict) and "name" in item:
                found.append((str(item["name"]), item))
        return found
    return [(str(k), v) for k, v in condition.items() if isinstance(v, dict)]


def parse_job(name: str, condition: str | None, perform: str | None, active: bool,
              last_run: dt.datetime | None, processed: int | None) -> DeletionRule | None:
    """The deletion rule a scheduler job is, or None when the job deletes no tickets.
    Raises Unreadable for YAML that is not one of the known forms."""
    action = _load(perform).get("ticket.action")
    value = action.get("value") if isinstance(action, dict) else action
    if value not in DELETE_ACTIONS:
        return None
    for attribute, test in _conditions(_load(condition)):
        if attribute.endswith("_at") and test.get("operator") == "before (relative)":
            try:
                period = int(str(test.get("value")).strip())
            except ValueError:
                raise Unreadable(f"{attribute}: period {test.get('value')!r} is not a number") from None
            return DeletionRule(name, attribute, period, str(test.get("range", "day")), bool(active),
                                last_run.isoformat() if last_run else None, processed)
    raise Unreadable("deletes tickets without a 'before (relative)' condition on a ticket time")


def differs(rule: DeletionRule, policy: Policy) -> bool:
    """Whether an active rule deletes on another schedule than the policy's support-communication
    period after the ticket's closing."""
    wanted = policy.retention["support_communication"]
    if rule.attribute not in CLOSE_ATTRIBUTES:
        return True
    months = rule.months()
    if wanted.unit == "months":
        return months != wanted.period
    if wanted.unit == "years":
        return months != wanted.period * 12
    return not (rule.unit == "day" and rule.period == wanted.period)
