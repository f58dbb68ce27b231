"""Who may see what: identities to roles, pages and export kinds per role.

Plain Python with no Streamlit import, so every access decision can be driven by a test. The app
reads the identity (OpenID Connect via ``st.user``, a trusted proxy header, or the explicit demo
mode) and asks this module for the role; data masking per role lives in ``dashboard.data``.
"""

from __future__ import annotations

import fnmatch
import hmac
import ipaddress
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dashboard import pages, paths
from dashboard.errors import DashboardError, read_toml

ROLES = ("management", "dpo", "auditor")
# When groups map to several roles, the most entitled wins (group membership is granted on purpose).
ROLE_ORDER = {"dpo": 0, "auditor": 1, "management": 2}
AUTH_MODES = ("oidc", "proxy", "demo")
DEFAULT_PROXY_HEADER = "X-Auth-Request-Email"
# The header by which the proxy proves it is the proxy: a process on the same host that connects to
# 127.0.0.1 directly does not know the secret (DASHBOARD_PROXY_SECRET), so it cannot claim an identity.
DEFAULT_PROXY_SECRET_HEADER = "X-Cockpit-Proxy-Secret"
MIN_PROXY_SECRET = 24
# What an anonymous visitor is told when proxy sign-in fails: nothing about which header was missing.
PROXY_REFUSED = "no valid sign-in from the company's sign-in proxy"
log = logging.getLogger(__name__)

# The lists a page can export as CSV (export kind "list_csv"), each a named query.
LIST_QUERIES = ("request_queue", "retention_due_list", "deletable_subjects", "consent_findings",
                "incident_register", "rejected_rows", "deletion_worklist", "erasure_proofs")


@dataclass(frozen=True)
class Grants:
    """What one role may do: the one capability table every path checks (export jobs in the app and the
    CLI, each list query exported as CSV, the refresh, the job list, the audit trail, masking). Which
    pages a role opens is the page registry's (``dashboard.pages``)."""

    exports: frozenset[str]  # export job kinds
    lists: frozenset[str]  # list queries it may export with "list_csv" (masked for roles without personal data)
    personal_data: bool = False  # sees names, e-mails and subject ids (else those columns are left out)
    refresh: bool = False  # starts a snapshot build from the app (it reads every source anew)
    all_jobs: bool = False  # sees everybody's export jobs, not only its own
    audit_trail: bool = False  # reads the audit trail


GRANTS: dict[str, Grants] = {
    "dpo": Grants(exports=frozenset({"deletion_worklist", "subject_access", "portability", "audit_csv",
                                     "management_report", "list_csv", "deadlines_ics"}),
                  lists=frozenset(LIST_QUERIES), personal_data=True, refresh=True, all_jobs=True,
                  audit_trail=True),
    # Reads everything, exports the report and the audit trail only.
    "auditor": Grants(exports=frozenset({"management_report", "audit_csv"}), lists=frozenset(),
                      personal_data=True, audit_trail=True),
    # Aggregates and masked lists; not the Löschlisten (record ids for the deleting team), not the
    # rejected rows, not the erasure proof.
    "management": Grants(exports=frozenset({"management_report", "list_csv"}),
                         lists=frozenset({"request_queue", "retention_due_list", "deletable_subjects",
                                          "consent_findings", "incident_register"})),
}
# Export kinds with personal data, and the aggregate ones (the audit trail's filter lists them).
PERSONAL_EXPORTS = frozenset({"deletion_worklist", "subject_access", "portability", "audit_csv", "deadlines_ics"})
AGGREGATE_EXPORTS = frozenset({"management_report"})


class AccessDenied(DashboardError, PermissionError):
    """The identity or role may not do this; the message says why (shown to the user)."""

    label = "errors.access"


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
    # Identities (glob patterns, e.g. "*@aelvirionek.de") whose role their groups may decide; groups of
    # anybody else count for nothing, so a forged or foreign groups claim raises no one's role.
    groups_decide: tuple[str, ...] = ()


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
    raw = read_toml(path, AccessDenied, f"no role mapping at {path} (see data/roles.example.toml)")
    users = {k.strip().lower(): v for k, v in raw.get("users", {}).items()}
    groups = dict(raw.get("groups", {}))
    for where, mapping in (("users", users), ("groups", groups)):
        bad = {k: v for k, v in mapping.items() if v not in ROLES}
        if bad:
            raise AccessDenied(f"{path}: [{where}] maps to unknown roles {bad}; expected one of {ROLES}")
    decide = raw.get("groups_decide", [])
    if not isinstance(decide, list) or not all(isinstance(p, str) for p in decide):
        raise AccessDenied(f"{path}: groups_decide must be a list of identity patterns")
    return RoleMap(users, groups, str(path), tuple(p.strip().lower() for p in decide))


def role_for(identity: Identity, mapping: RoleMap) -> str:
    """The role of a signed-in identity; an unknown identity gets none (AccessDenied), never a default."""
    email = (identity.email or "").strip().lower()
    if email and email in mapping.users:
        return mapping.users[email]
    if email and any(fnmatch.fnmatchcase(email, pattern) for pattern in mapping.groups_decide):
        from_groups = sorted({mapping.groups[g] for g in identity.groups if g in mapping.groups},
                             key=ROLE_ORDER.get)
        if from_groups:
            return from_groups[0]
    raise AccessDenied(f"{identity.name} has no role in this dashboard")


# What a visitor is told when an OpenID Connect sign-in is not accepted (the log says why).
OIDC_UNTRUSTED = "this sign-in comes from an identity provider or tenant this dashboard does not trust"
OIDC_UNVERIFIED = "the identity provider has not verified the e-mail address of this sign-in"


def oidc_expected_issuer(metadata_issuer: str | None) -> str:
    """The one issuer whose ID tokens count: ``DASHBOARD_OIDC_ISSUER``, else the provider's discovery
    document's; a multi-tenant Entra issuer (``{tenantid}``) needs ``DASHBOARD_OIDC_TENANT``."""
    issuer = os.environ.get("DASHBOARD_OIDC_ISSUER", "").strip() or (metadata_issuer or "")
    tenant = os.environ.get("DASHBOARD_OIDC_TENANT", "").strip()
    if "{tenantid}" in issuer:
        if not tenant:
            log.error("multi-tenant OIDC issuer %s: DASHBOARD_OIDC_TENANT must pin the tenant", issuer)
            raise AccessDenied(OIDC_UNTRUSTED)
        issuer = issuer.replace("{tenantid}", tenant)
    if not issuer:
        log.error("OIDC: no issuer to pin (neither DASHBOARD_OIDC_ISSUER nor the discovery document)")
        raise AccessDenied(OIDC_UNTRUSTED)
    return issuer


def identity_from_claims(claims: Mapping, issuer: str) -> Identity:
    """OpenID Connect: the identity of verified ID-token claims. The token must come from ``issuer``
    (and, with ``DASHBOARD_OIDC_TENANT``, from that tenant: Entra's ``tid``); the e-mail counts only when
    the provider says it verified it (``email_verified``, or Entra's ``xms_edov``), since roles are
    granted by e-mail; groups count only as a list of names."""
    tenant = os.environ.get("DASHBOARD_OIDC_TENANT", "").strip()
    if claims.get("iss") != issuer or (tenant and claims.get("tid") != tenant):
        log.warning("OIDC sign-in refused: issuer or tenant not the pinned one")
        raise AccessDenied(OIDC_UNTRUSTED)
    if not any(claims.get(flag) in (True, "true") for flag in ("email_verified", "xms_edov")):
        log.warning("OIDC sign-in refused: e-mail not verified by the provider")
        raise AccessDenied(OIDC_UNVERIFIED)
    groups = claims.get("groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        log.warning("OIDC groups claim ignored: not a list of names")
        groups = []
    return Identity(claims.get("email"), tuple(groups), "oidc")


@dataclass(frozen=True)
class ProxySettings:
    """Proxy mode's headers and the shared secret, from the environment (docs/DEPLOY.md, section 7)."""

    secret: str
    header: str = DEFAULT_PROXY_HEADER
    groups_header: str | None = None  # groups are read only when a setting names their header
    secret_header: str = DEFAULT_PROXY_SECRET_HEADER


def proxy_settings() -> ProxySettings:
    """``DASHBOARD_PROXY_SECRET`` (required, at least 24 characters), ``DASHBOARD_AUTH_HEADER``,
    ``DASHBOARD_AUTH_GROUPS_HEADER`` (no default: unset, no groups are read), ``DASHBOARD_PROXY_SECRET_HEADER``."""
    secret = os.environ.get("DASHBOARD_PROXY_SECRET", "")
    if len(secret.strip()) < MIN_PROXY_SECRET:
        log.error("proxy mode refused: DASHBOARD_PROXY_SECRET is unset or shorter than %d characters",
                  MIN_PROXY_SECRET)
        raise AccessDenied("proxy sign-in is not set up on this server (see the operator's log)")
    return ProxySettings(secret=secret.strip(),
                         header=os.environ.get("DASHBOARD_AUTH_HEADER", "").strip() or DEFAULT_PROXY_HEADER,
                         groups_header=os.environ.get("DASHBOARD_AUTH_GROUPS_HEADER", "").strip() or None,
                         secret_header=os.environ.get("DASHBOARD_PROXY_SECRET_HEADER", "").strip()
                         or DEFAULT_PROXY_SECRET_HEADER)


def _only_copy(headers: Mapping[str, str], name: str) -> str | None:
    """The one value of header ``name`` (None when absent); a header sent twice is refused."""
    get_all = getattr(headers, "get_all", None)  # Streamlit's headers keep every copy of a header
    copies = get_all(name) if get_all else [v for k, v in headers.items() if k.lower() == name.lower()]
    if len(copies) > 1:
        log.warning("proxy sign-in refused: %d copies of %s", len(copies), name)
        raise AccessDenied(PROXY_REFUSED)
    return copies[0] if copies else None


def identity_from_headers(headers: Mapping[str, str], settings: ProxySettings | None = None) -> Identity:
    """Proxy mode: the identity a trusted reverse proxy put in the request headers, accepted only with
    the proxy's shared secret (compared in constant time). Refusals name no header to the visitor; the
    server's log says which check failed (never a value)."""
    settings = settings or proxy_settings()
    presented = _only_copy(headers, settings.secret_header) or ""
    if not hmac.compare_digest(presented.encode("utf-8"), settings.secret.encode("utf-8")):
        log.warning("proxy sign-in refused: %s missing or wrong", settings.secret_header)
        raise AccessDenied(PROXY_REFUSED)
    email = (_only_copy(headers, settings.header) or "").strip()
    if not email:
        log.warning("proxy sign-in refused: no %s", settings.header)
        raise AccessDenied(PROXY_REFUSED)
    raw_groups = _only_copy(headers, settings.groups_header) if settings.groups_header else None
    groups = tuple(g.strip() for g in (raw_groups or "").split(",") if g.strip())
    return Identity(email, groups, "proxy")


def check_proxy_binding(address: str | None) -> None:
    """Trusting a header is safe only when nobody but the proxy can reach the app."""
    try:
        loopback = address not in (None, "") and ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = address == "localhost"
    if not loopback:
        raise AccessDenied(f"proxy mode needs server.address on 127.0.0.1 (got {address!r})")


def check_demo_allowed(demo_only: bool) -> None:
    """Demo mode (no sign-in) only over stores ``dashboard demo`` generated: the snapshot records whether
    every source carried the marker that command writes (never a guess from a folder's name)."""
    if not demo_only:
        raise AccessDenied("demo mode (no sign-in) is refused: the snapshot holds real sources")


def demo_role() -> str:
    role = os.environ.get("DASHBOARD_DEMO_ROLE", "dpo")
    if role not in ROLES:
        raise AccessDenied(f"DASHBOARD_DEMO_ROLE={role!r} is not one of {ROLES}")
    return role


def current_role(identity: Identity) -> str:
    """The role an identity has now: demo identities carry the role they chose; everybody else's is read
    from the roles file each time (a change there applies at the next interaction, downloads included)."""
    if identity.source == "demo":
        role = identity.name.removeprefix("demo:")
        if role not in ROLES:
            raise AccessDenied(f"unknown demo role {role!r}")
        return role
    return role_for(identity, load_role_map())


def _grants(role: str) -> Grants:
    return GRANTS.get(role, Grants(frozenset(), frozenset()))


def pages_for(role: str) -> list[str]:
    """The ids of the pages ``role`` may open, in menu order."""
    return [page.id for page in pages.PAGES if page.opens_for(role)]


def may_export(role: str, kind: str, query: str | None = None) -> bool:
    """Whether ``role`` may make an export of ``kind`` (for "list_csv": of list query ``query``)."""
    grants = _grants(role)
    if kind not in grants.exports:
        return False
    return kind != "list_csv" or query is None or query in grants.lists


def check_export(role: str, kind: str, params: dict | None = None) -> None:
    """Called when an export job is created and when its file is served (app and CLI alike)."""
    query = (params or {}).get("query") if kind == "list_csv" else None
    if kind == "list_csv" and not query:
        raise AccessDenied("a list export names its list query")
    if not may_export(role, kind, query):
        what = f"list {query!r}" if query else f"exports of kind {kind!r}"
        raise AccessDenied(f"role {role!r} may not create {what}")


def may_refresh(role: str) -> bool:
    return _grants(role).refresh


def check_refresh(role: str) -> None:
    if not may_refresh(role):
        raise AccessDenied(f"role {role!r} may not refresh the snapshot")


def sees_all_jobs(role: str) -> bool:
    return _grants(role).all_jobs


def sees_audit_trail(role: str) -> bool:
    return _grants(role).audit_trail


def sees_personal_data(role: str) -> bool:
    """The one decision whether a role sees names, e-mails and subject ids (``data.mask_personal``)."""
    return _grants(role).personal_data
