"""Who is looking: sign-in (OpenID Connect, the proxy header or demo mode), the role that
dashboard.access decides, and whether that role sees personal data.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import streamlit as st

from dashboard import access
from dashboard.ui.live import _cached_query, live_snapshot
from dashboard.ui.text import coded, md, t
from dashboard.ui.who import IDENTITY_KEY, ROLE_KEY, USER_KEY


def _demo_only() -> bool:
    """Whether the live snapshot holds only generated demo stores (no snapshot: nothing real either)."""
    snapshot = live_snapshot()
    if snapshot is None:
        return True
    return bool(_cached_query(str(snapshot), "snapshot_sources", ())["demo_only"][0])


def sign_in() -> str | None:
    """Decide the viewer's identity and role for this run; None (with a message) means no access."""
    st.session_state.pop(ROLE_KEY, None)
    try:
        mode = access.auth_mode()
        if mode == "demo":
            access.check_demo_allowed(_demo_only())
            st.warning(t("auth.demo_banner"), icon=":material/science:")
            # The demo role lives in the URL too (?role=), so a reload keeps it (demo mode only).
            linked = st.query_params.get("role")
            default = linked if linked in access.ROLES else access.demo_role()
            chosen = st.sidebar.selectbox(t("auth.demo_role"), access.ROLES, index=access.ROLES.index(default),
                                          key="demo_role", format_func=lambda r: coded("role", r))
            st.query_params["role"] = chosen
            identity = access.Identity(f"demo:{chosen}", (), "demo")
            resolved = access.current_role(identity)
        else:
            if mode == "proxy":
                access.check_proxy_binding(st.get_option("server.address"))
                identity = access.identity_from_headers(st.context.headers)
            else:
                identity = _oidc_identity()
                if identity is None:
                    return None
            resolved = access.current_role(identity)
    except access.AccessDenied as exc:
        st.error(t("auth.denied", reason=md(exc)), icon=":material/block:")
        return None
    st.session_state[ROLE_KEY] = resolved
    st.session_state[USER_KEY] = identity.name
    st.session_state[IDENTITY_KEY] = identity
    return resolved


def _oidc_identity() -> access.Identity | None:
    """Streamlit's OpenID Connect sign-in; shows the sign-in button while nobody is signed in."""
    if not _oidc_configured():
        st.title(t("app.title"))
        st.error(t("errors.oidc_missing"), icon=":material/error:")
        return None
    metadata_url = str(st.secrets["auth"].get("server_metadata_url", ""))
    if not st.user.is_logged_in:
        st.title(t("app.title"))
        st.write(t("auth.intro"))
        if _provider_metadata(metadata_url) is None:
            host = urllib.parse.urlsplit(metadata_url).netloc or metadata_url
            st.error(t("auth.provider_unreachable", host=md(host)), icon=":material/cloud_off:")
            return None
        st.info(t("auth.sign_in_hint"))
        if st.button(t("auth.sign_in"), type="primary", icon=":material/login:"):
            try:
                st.login()
            except Exception as exc:  # noqa: BLE001 - Streamlit raises its own error class when [auth] is incomplete
                st.error(t("auth.not_configured", reason=md(str(exc).splitlines()[0])))
        return None
    document = _provider_metadata(metadata_url) or _LAST_GOOD.get(metadata_url) or {}
    issuer = access.oidc_expected_issuer(document.get("issuer"))
    return access.identity_from_claims(st.user.to_dict(), issuer)


def _oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section (without it ``st.user`` cannot sign in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: Streamlit raises its own error class
        return False


# The last discovery document each provider answered with: a signed-in user's token is held against its
# issuer even while a fetch fails for a moment (the sign-in page still says when the provider is down).
_LAST_GOOD: dict[str, dict] = {}


@st.cache_data(ttl=30, show_spinner=False)
def _provider_metadata(metadata_url: str) -> dict | None:
    """The identity provider's discovery document (fetched at most every 30 s, tried twice), None when it
    cannot be fetched: the sign-in page then says so instead of sending the user to an error. Its issuer
    is the one whose tokens count."""
    for _ in range(2):
        try:
            with urllib.request.urlopen(metadata_url, timeout=5) as response:  # noqa: S310 - the configured provider
                document = json.load(response)
        except (OSError, ValueError):
            continue
        if isinstance(document, dict):
            _LAST_GOOD[metadata_url] = document
            return document
    return None
