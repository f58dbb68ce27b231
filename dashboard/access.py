"""Who may see what: identities to roles, pages and export kinds per role.

Plain Python with no Streamlit import, so every access decision can be driven by a test. The app
reads the identity (OpenID Connect via ``st.user``, a trusted proxy header, or the explicit demo
mode) and asks this module for the role; data masking per role lives in ``dashboard.data``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dashboard import paths

ROLES = ("management", "dpo", "auditor")
# When groups map to several roles, the most entitled wins (group membership is granted on purpose).
ROLE_ORDER = {"dpo": 0, "auditor": 1, "management": 2}
AUTH_MODES = ("oidc", "proxy", "demo")
DEFAULT_PROXY_HEADER = "X-Auth-Request-Email"
DEFAULT_PROXY_GROUPS_HEADER = "X-Auth-Request-Groups"

# Pages (by URL path) and the roles that may open them; a page not listed for a role is not
# registered with st.navigation for it, so its URL falls back to the overview.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "uebersicht": frozenset(ROLES),
    "loeschfristen": frozenset(ROLES),
    "anfragen": frozenset(ROLES),
    "einwilligungen": frozenset(ROLES),
    "datenpannen": frozenset(ROLES),
    "exporte": frozenset(ROLES),
    # Rejected source rows carry raw keys and values: only for those who work with personal data.
    "datenqualitaet": frozenset({"dpo", "auditor"}),
}

# Export kinds: those with personal data, and the aggregate ones. Lists ("list_csv") are masked for
# roles without personal data (dashboard.data), so management may export what its pages show.
PERSONAL_EXPORTS = frozenset({"deletion_worklist", "subject_access", "portability", "audit_csv"})
AGGREGATE_EXPORTS = frozenset({"management_report"})
EXPORTS_BY_ROLE: dict[str, frozenset[str]] = {
    "dpo": PERSONAL_EXPORTS | AGGREGATE_EXPORTS | {"list_csv"},
    "auditor": AGGREGATE_EXPORTS | {"audit_csv"},
    "management": AGGREGATE_EXPORTS | {"list_csv"},
}


class AccessDenied(PermissionError):
    """The identity or role may not do this; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Identity:
    email: str | None
    groups: tuple[str, ...] = ()
    source: str = "oidc"

    @property
    def name(self) -> str:
        return self.email or "?"


@dataclass(frozen=True)
class RoleMap:
    users: Mapping[str, str] = field(default_factory=dict)  # lower-case email -> role
    groups: Mapping[str, str] = field(default_factory=dict)  # group -> role
    source: str = ""


def auth_mode() -> str:
    """``DASHBOARD_AUTH``: oidc (default), proxy or demo. Demo is never the default."""
    mode = os.environ.get("DASHBOARD_AUTH", "oidc").strip().lower() or "oidc"
    if mode not in AUTH_MODES:
        raise AccessDenied(f"DASHBOARD_AUTH={mode!r} is not one of {', '.join(AUTH_MODES)}")
    return mode


def roles_file() -> Path:
    """The deployment's mapping (``DASHBOARD_ROLES_FILE``, default ``DATA_DIR/roles.toml``)."""
    configured = os.environ.get("DASHBOARD_ROLES_FILE")
    return Path(configured) if configured else paths.data_dir() / "roles.toml"


def load_role_map(path: Path | None = None) -> RoleMap:
    path = Path(path or roles_file())
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccessDenied(f"no role mapping at {path} (see data/roles.example.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise AccessDenied(f"{path}: not valid TOML: {exc}") from None
    users = {k.strip().lower(): v for k, v in raw.get("users", {}).items()}
    groups = dict(raw.get("groups", {}))
    for where, mapping in (("users", users), ("groups", groups)):
        bad = {k: v for k, v in mapping.items() if v not in ROLES}
        if bad:
            raise AccessDenied(f"{path}: [{where}] maps to unknown roles {bad}; expected one of {ROLES}")
    return RoleMap(users, groups, str(path))


def role_for(identity: Identity, mapping: RoleMap) -> str:
    """The role of a signed-in identity; an unknown identity gets none (AccessDenied), never a default."""
    if identity.email and identity.email.strip().lower() in mapping.users:
        return mapping.users[identity.email.strip().lower()]
    from_groups = sorted({mapping.groups[g] for g in identity.groups if g in mapping.groups}, key=ROLE_ORDER.get)
    if from_groups:
        return from_groups[0]
    raise AccessDenied(f"{identity.name} has no role in this dashboard")


def identity_from_headers(headers: Mapping[str, str], header: str | None = None,
                          groups_header: str | None = None) -> Identity:
    """Proxy mode: the identity a trusted reverse proxy put in the request headers."""
    header = header or os.environ.get("DASHBOARD_AUTH_HEADER", DEFAULT_PROXY_HEADER)
    groups_header = groups_header or os.environ.get("DASHBOARD_AUTH_GROUPS_HEADER", DEFAULT_PROXY_GROUPS_HEADER)
    lowered = {k.lower(): v for k, v in headers.items()}
    email = (lowered.get(header.lower()) or "").strip()
    if not email:
        raise AccessDenied(f"the proxy sent no {header} header")
    groups = tuple(g.strip() for g in (lowered.get(groups_header.lower()) or "").split(",") if g.strip())
    return Identity(email, groups, "proxy")


def check_proxy_binding(address: str | None) -> None:
    """Trusting a header is safe only when nobody but the proxy can reach the app."""
    try:
        loopback = address not in (None, "") and ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = address == "localhost"
    if not loopback:
        raise AccessDenied(f"proxy mode needs server.address on 127.0.0.1 (got {address!r})")


def check_demo_allowed(sources: list[str]) -> None:
    """Demo mode (no sign-in) only over the generated demo stores, never over real sources."""
    real = [s for s in sources if "/demo/" not in s.replace("\\", "/")]
    if real:
        raise AccessDenied("demo mode (no sign-in) is refused: the snapshot holds real sources")


def demo_role() -> str:
    role = os.environ.get("DASHBOARD_DEMO_ROLE", "dpo")
    if role not in ROLES:
        raise AccessDenied(f"DASHBOARD_DEMO_ROLE={role!r} is not one of {ROLES}")
    return role


def pages_for(role: str) -> list[str]:
    return [page for page, roles in PAGE_ROLES.items() if role in roles]


def may_export(role: str, kind: str) -> bool:
    return kind in EXPORTS_BY_ROLE.get(role, frozenset())


def check_export(role: str, kind: str) -> None:
    """Called when an export job is created (not only by the UI)."""
    if not may_export(role, kind):
        raise AccessDenied(f"role {role!r} may not create exports of kind {kind!r}")


def sees_all_jobs(role: str) -> bool:
    return role == "dpo"


def sees_audit_trail(role: str) -> bool:
    return role in ("dpo", "auditor")
