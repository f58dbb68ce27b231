"""Who is signed in this session (set by ``signin``): the role and the name every page and query
reads, and whether that role sees personal data.
"""

from __future__ import annotations

import streamlit as st

from dashboard import access, data

ROLE_KEY = "_signed_in_role"
USER_KEY = "_signed_in_user"
IDENTITY_KEY = "_signed_in_identity"


def role() -> str:
    """The viewer's role, decided by ``sign_in`` at the top of every run."""
    try:
        return st.session_state[ROLE_KEY]
    except KeyError:
        raise access.AccessDenied("not signed in") from None


def user_name() -> str:
    return st.session_state.get(USER_KEY, "?")


def sees_personal_data() -> bool:
    return data.may_see_personal_data(role())
