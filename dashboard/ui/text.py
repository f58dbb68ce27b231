"""Labels and language: every user-facing string comes from the catalogue (German by default);
source values are escaped before they reach Markdown.
"""

from __future__ import annotations

import re

import streamlit as st

from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, code_labels, label

LANG_KEY = "_lang"  # not a widget key: survives page switches, which clear unrendered widget state


def lang() -> str:
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def t(key: str, **values: object) -> str:
    return label(key, lang(), **values)


def coded(group: str, value: str | None) -> str:
    """Display name of one coded value; unknown codes show as they are."""
    return "" if value is None else code_labels(group, lang()).get(value, value)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'])")


def md(value: object) -> str:
    """A value from a source (or an identity) as literal text inside Markdown: every character that
    Markdown, Streamlit's directives (``:red[...]``, ``:material/...:``) or HTML could read is
    escaped, and line breaks become spaces. ``st.write``/``st.caption``/``st.markdown`` never get a
    source value without it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def language_switch() -> None:
    """The language choice, kept in the session and in the URL (``?lang=en``), so a reload or a sent
    link speaks the same language; German, the default, needs no parameter."""
    if st.query_params.get("lang") in LANGUAGES:
        st.session_state[LANG_KEY] = st.query_params["lang"]
    _language_to_url()  # a page switch drops the URL's parameters: put the language back
    st.session_state["lang"] = lang()  # seed the widget from the kept choice on every run
    st.sidebar.selectbox(t("app.language"), LANGUAGES, key="lang", on_change=_keep_language,
                         format_func=lambda code: {"de": "Deutsch", "en": "English"}[code])


def _keep_language() -> None:
    st.session_state[LANG_KEY] = st.session_state["lang"]
    _language_to_url()


def _language_to_url() -> None:
    if lang() != DEFAULT_LANGUAGE:
        st.query_params["lang"] = lang()
    elif "lang" in st.query_params:
        del st.query_params["lang"]
