"""The retention policy and rule settings, loaded and validated once from ``data/policy.toml``.

A wrong policy must stop the dashboard loudly rather than compute wrong deadlines quietly, so every
check names the file, the key and what was expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dashboard import paths
from dashboard.errors import DashboardError, read_toml

UNITS = ("days", "months", "years")
REQUIRED_CATEGORIES = ("support_communication", "contract", "billing")


class PolicyError(DashboardError, ValueError):
    """The policy file is unreadable or holds a value the rules cannot use."""

    label = "errors.policy"


@dataclass(frozen=True)
class RetentionRule:
    category: str
    records: str
    anchor: str
    period: int
    unit: str
    from_end_of_year: bool
    legal_basis: str
    statutory_duty: bool  # a statute (e.g. § 147 AO) obliges keeping it: erasure only restricts (DOMAIN.md 5)


@dataclass(frozen=True)
class Settings:
    due_soon_days: int
    approaching_days: int
    breach_warning_hours: int
    pending_optin_max_days: int
    current_notice_version: str
    extra_holidays: tuple[dt.date, ...]
    erasure_grace_days: int = 7  # R3.6: days after a completed erasure before remaining records are a finding


@dataclass(frozen=True)
class Threshold:
    """Traffic light of one headline figure: green up to/from ``green``, amber up to/from ``amber``, else red."""

    kpi: str
    better: str  # "lower" (e.g. overdue requests) or "higher" (e.g. on-time rate)
    green: float
    amber: float


@dataclass(frozen=True)
class Policy:
    path: str
    version: str
    effective_date: dt.date
    source: str
    settings: Settings
    retention: dict[str, RetentionRule]
    thresholds: dict[str, Threshold]

    def rule(self, category: str) -> RetentionRule:
        try:
            return self.retention[category]
        except KeyError:
            known = ", ".join(sorted(self.retention))
            raise ValueError(f"unknown retention category {category!r}; the policy knows: {known}") from None


def _get(table: dict, key: str, kind: type | tuple[type, ...], where: str, expected: str):
    if key not in table:
        raise PolicyError(f"{where}.{key}: missing; expected {expected}")
    value = table[key]
    # bool is an int subclass: never accept true/false where a number is meant.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise PolicyError(f"{where}.{key}: got {value!r}; expected {expected}")
    return value


def _non_negative(table: dict, key: str, where: str) -> int:
    value = _get(table, key, int, where, "a whole number >= 0")
    if value < 0:
        raise PolicyError(f"{where}.{key}: got {value}; expected a whole number >= 0")
    return value


def parse_policy(raw: dict, path: str) -> Policy:
    """Validate a parsed policy document; errors name ``path`` and the key (checked in this order)."""
    settings = _settings(raw, path)
    rules = _retention(raw, path)
    for category in REQUIRED_CATEGORIES:
        if category not in rules:
            raise PolicyError(f"{path}: retention.{category}: missing; the privacy notice promises this category")
    effective = _get(raw, "effective_date", dt.date, path, "a date (YYYY-MM-DD)")
    thresholds = _thresholds(raw, path)
    return Policy(
        path=path,
        version=_get(raw, "version", str, path, "a version string"),
        effective_date=effective,
        source=_get(raw, "source", str, path, "where the policy comes from"),
        settings=settings,
        retention=rules,
        thresholds=thresholds,
    )


def _settings(raw: dict, top: str) -> Settings:
    """[settings]: the rule settings (windows, warning hours, notice version, extra holidays)."""
    settings_raw = raw.get("settings")
    if not isinstance(settings_raw, dict):
        raise PolicyError(f"{top}: [settings]: missing; expected a table of rule settings")
    where = f"{top}: settings"
    extra = _get(settings_raw, "extra_holidays", list, where, "a list of dates (YYYY-MM-DD)")
    for item in extra:
        if not isinstance(item, dt.date) or isinstance(item, dt.datetime):
            raise PolicyError(f"{where}.extra_holidays: got {item!r}; expected dates like 2026-06-01")
    return Settings(
        due_soon_days=_non_negative(settings_raw, "due_soon_days", where),
        approaching_days=_non_negative(settings_raw, "approaching_days", where),
        breach_warning_hours=_non_negative(settings_raw, "breach_warning_hours", where),
        pending_optin_max_days=_non_negative(settings_raw, "pending_optin_max_days", where),
        current_notice_version=_get(settings_raw, "current_notice_version", str, where, "a version string"),
        extra_holidays=tuple(sorted(extra)),
        erasure_grace_days=_non_negative(settings_raw, "erasure_grace_days", where)
        if "erasure_grace_days" in settings_raw else 7,
    )


def _retention(raw: dict, top: str) -> dict[str, RetentionRule]:
    """[retention.CATEGORY]: what the privacy notice promises per category of records."""
    retention_raw = raw.get("retention")
    if not isinstance(retention_raw, dict):
        raise PolicyError(f"{top}: [retention]: missing; expected one table per category")
    rules: dict[str, RetentionRule] = {}
    for category, table in retention_raw.items():
        where = f"{top}: retention.{category}"
        if not isinstance(table, dict):
            raise PolicyError(f"{where}: expected a table")
        unit = _get(table, "unit", str, where, f"one of {', '.join(UNITS)}")
        if unit not in UNITS:
            raise PolicyError(f"{where}.unit: got {unit!r}; expected one of {', '.join(UNITS)}")
        rules[category] = RetentionRule(
            category=category,
            records=_get(table, "records", str, where, "a description of the records"),
            anchor=_get(table, "anchor", str, where, "the event the period starts from"),
            period=_non_negative(table, "period", where),
            unit=unit,
            from_end_of_year=_get(table, "from_end_of_year", bool, where, "true or false")
            if "from_end_of_year" in table
            else False,
            legal_basis=_get(table, "legal_basis", str, where, "the legal reference"),
            statutory_duty=_get(table, "statutory_duty", bool, where, "true or false")
            if "statutory_duty" in table
            else False,
        )
    return rules


def _thresholds(raw: dict, top: str) -> dict[str, Threshold]:
    """[thresholds.KPI]: where a headline figure turns amber and red."""
    thresholds = {}
    for kpi, table in (raw.get("thresholds") or {}).items():
        where = f"{top}: thresholds.{kpi}"
        if not isinstance(table, dict):
            raise PolicyError(f"{where}: expected a table with better, green and amber")
        better = _get(table, "better", str, where, "lower or higher")
        if better not in ("lower", "higher"):
            raise PolicyError(f"{where}.better: got {better!r}; expected lower or higher")
        green = _get(table, "green", (int, float), where, "a number")
        amber = _get(table, "amber", (int, float), where, "a number")
        if (better == "lower" and amber < green) or (better == "higher" and amber > green):
            raise PolicyError(f"{where}: amber must lie beyond green on the worse side")
        thresholds[kpi] = Threshold(kpi, better, float(green), float(amber))
    return thresholds


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file (default: ``data/policy.toml``); cached per path."""
    return _load(str(Path(path) if path else paths.policy_file()))


@lru_cache(maxsize=8)
def _load(path: str) -> Policy:
    return parse_policy(read_toml(Path(path), PolicyError, f"{path}: policy file not found"), path)
