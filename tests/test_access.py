"""Access decisions (dashboard.access) and what each role sees on each page (AppTest with at.user)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import access, data
from dashboard.access import AccessDenied, Identity
from dashboard.pages import PAGES as REGISTRY
from dashboard.snapshot import connect as open_snapshot
from dashboard.snapshot import current_snapshot
from tests.helpers import DPO, ISSUER, SIGNED, signed_in_app, write_store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
EXAMPLE = ROOT / "data" / "roles.example.toml"


def test_example_mapping_is_valid_and_unknown_identities_get_nothing():
    mapping = access.load_role_map(EXAMPLE)
    assert access.role_for(Identity("Datenschutz@Aelvirionek.example"), mapping) == "dpo"
    staff = "x@aelvirionek.example"  # groups decide for the company's own identities (groups_decide)
    assert access.role_for(Identity(staff, ("geschaeftsleitung",)), mapping) == "management"
    # Several groups: the most entitled role; a listed email wins over groups.
    assert access.role_for(Identity(staff, ("geschaeftsleitung", "dsgvo-pruefung")), mapping) == "auditor"
    assert access.role_for(Identity("geschaeftsfuehrung@aelvirionek.example", ("dsgvo-dsb",)), mapping) == "management"
    with pytest.raises(AccessDenied, match="no role"):
        access.role_for(Identity("stranger@example.com", ("staff",)), mapping)
    with pytest.raises(AccessDenied, match="no role"):
        access.role_for(Identity(None), mapping)


def test_groups_raise_no_role_for_identities_outside_groups_decide():
    """An identity missing from [users] gets nothing from a groups header or claim unless the
    roles file lets groups decide for it (a forged X-Auth-Request-Groups: dsgvo-dsb made anyone DPO)."""
    mapping = access.load_role_map(EXAMPLE)
    for outsider in ("attacker@evil.example", "x@aelvirionek.example.evil.example", "x@y"):
        with pytest.raises(AccessDenied, match="no role"):
            access.role_for(Identity(outsider, ("dsgvo-dsb",)), mapping)
    assert access.role_for(Identity("Pruefer@Extern.example", ("dsgvo-pruefung",)), mapping) == "auditor"
    no_patterns = access.RoleMap(mapping.users, mapping.groups, "t")
    with pytest.raises(AccessDenied, match="no role"):
        access.role_for(Identity("x@aelvirionek.example", ("dsgvo-dsb",)), no_patterns)


SECRET = "s3cret-of-the-proxy-0123456789"
PROXY = access.ProxySettings(secret=SECRET, groups_header="X-Auth-Request-Groups")


class Headers(dict):
    """Request headers as Streamlit hands them over: every copy of a header kept."""

    def __init__(self, pairs):
        super().__init__(pairs)
        self.pairs = pairs

    def get_all(self, name):
        return [v for k, v in self.pairs if k.lower() == name.lower()]


def test_duplicated_identity_headers_are_refused():
    for name in ("X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Cockpit-Proxy-Secret"):
        pairs = [("X-Cockpit-Proxy-Secret", SECRET), ("X-Auth-Request-Email", "chef@aelvirionek.example"),
                 ("X-Auth-Request-Groups", "x")]
        pairs.append((name, "dsgvo-dsb" if "Groups" in name else SECRET if "Secret" in name else "dsb@x"))
        with pytest.raises(AccessDenied, match="sign-in proxy"):
            access.identity_from_headers(Headers(pairs), PROXY)


def test_proxy_headers_need_the_proxys_secret_and_refusals_name_no_header(caplog):
    """A process on the same host connecting to 127.0.0.1 directly does not know the secret;
    what the visitor is told names no header (the log says which check failed, never a value)."""
    ident = access.identity_from_headers(
        {"x-cockpit-proxy-secret": SECRET, "x-auth-request-email": "a@b", "X-Auth-Request-Groups": "g1, g2"}, PROXY)
    assert (ident.email, ident.groups, ident.source) == ("a@b", ("g1", "g2"), "proxy")
    for headers in ({"X-Auth-Request-Email": "dsb@x"}, {"X-Auth-Request-Email": "dsb@x", "X-Cockpit-Proxy-Secret":
                                                       SECRET[:-1]}, {"X-Cockpit-Proxy-Secret": SECRET}, {}):
        with pytest.raises(AccessDenied) as refused:
            access.identity_from_headers(headers, PROXY)
        assert str(refused.value) == access.PROXY_REFUSED and "X-" not in str(refused.value)
    assert SECRET not in caplog.text and SECRET[:-1] not in caplog.text


def test_proxy_groups_are_read_only_when_their_header_is_named(monkeypatch):
    headers = {"X-Cockpit-Proxy-Secret": SECRET, "X-Auth-Request-Email": "a@b", "X-Auth-Request-Groups": "dsgvo-dsb"}
    monkeypatch.setenv("DASHBOARD_PROXY_SECRET", SECRET)
    monkeypatch.delenv("DASHBOARD_AUTH_GROUPS_HEADER", raising=False)
    assert access.identity_from_headers(headers).groups == ()  # no setting: no groups, whatever a client sends
    monkeypatch.setenv("DASHBOARD_AUTH_GROUPS_HEADER", "X-Auth-Request-Groups")
    assert access.identity_from_headers(headers).groups == ("dsgvo-dsb",)


def test_proxy_mode_refuses_to_run_without_a_secret(monkeypatch):
    for secret in (None, "", "short"):
        if secret is None:
            monkeypatch.delenv("DASHBOARD_PROXY_SECRET", raising=False)
        else:
            monkeypatch.setenv("DASHBOARD_PROXY_SECRET", secret)
        with pytest.raises(AccessDenied, match="not set up"):
            access.identity_from_headers({"X-Auth-Request-Email": "a@b", "X-Cockpit-Proxy-Secret": secret or ""})


def test_bad_mapping_files_are_refused(tmp_path):
    with pytest.raises(AccessDenied, match="no role mapping"):
        access.load_role_map(tmp_path / "missing.toml")
    bad = tmp_path / "roles.toml"
    bad.write_text('[users]\n"a@b" = "admin"\n', encoding="utf-8")
    with pytest.raises(AccessDenied, match="unknown roles"):
        access.load_role_map(bad)


def test_proxy_binding():
    access.check_proxy_binding("127.0.0.1")
    access.check_proxy_binding("::1")
    for address in ("0.0.0.0", "", None, "10.0.0.5"):
        with pytest.raises(AccessDenied, match="127.0.0.1"):
            access.check_proxy_binding(address)


def test_demo_mode_is_explicit_and_only_over_demo_data(monkeypatch):
    monkeypatch.delenv("DASHBOARD_AUTH")
    assert access.auth_mode() == "oidc"  # never demo by default
    monkeypatch.setenv("DASHBOARD_AUTH", "nonsense")
    with pytest.raises(AccessDenied):
        access.auth_mode()
    access.check_demo_allowed(True)
    with pytest.raises(AccessDenied, match="real sources"):
        access.check_demo_allowed(False)


def test_demo_is_recognised_by_the_marker_not_the_folder_name(tmp_path, demo_data_dir):
    """A real store in a folder called demo/ is not demo data; the generated stores are."""
    from dashboard.build import build_snapshot

    con = open_snapshot(current_snapshot(demo_data_dir / "snapshots"))
    assert con.sql("SELECT demo_only FROM snapshot_meta").fetchall() == [(True,)]
    real = write_store(tmp_path / "demo" / "helpdesk", {})  # a folder named demo, without the marker
    built = build_snapshot(real, data_dir=tmp_path / "data").path
    con = open_snapshot(built)
    assert con.sql("SELECT demo_only FROM snapshot_meta").fetchall() == [(False,)]


def test_export_kinds_per_role():
    assert access.may_export("dpo", "subject_access") and access.may_export("dpo", "management_report")
    assert access.may_export("auditor", "management_report") and not access.may_export("auditor", "list_csv")
    assert not access.may_export("management", "deletion_worklist")
    assert access.may_export("management", "list_csv")  # masked: what its pages show
    assert not access.may_export("nobody", "management_report")
    with pytest.raises(AccessDenied):
        access.check_export("management", "subject_access")


@pytest.mark.parametrize(("role", "query", "allowed"), [
    ("management", "deletion_worklist", False),  # the DPO-only Löschliste, not through list_csv either
    ("management", "rejected_rows", False),  # Datenqualität is not management's page
    ("management", "retention_due_list", True),
    ("dpo", "deletion_worklist", True),
    ("auditor", "request_queue", False),
])
def test_one_role_rule_for_every_list(role, query, allowed, tmp_path):
    """The same table decides for the page, the job store (app and CLI) and each list."""
    from dashboard import jobs

    assert access.may_export(role, "list_csv", query) is allowed
    store = jobs.JobStore(tmp_path / "state" / "jobs.sqlite", tmp_path / "exports")
    if allowed:
        store.create("list_csv", {"query": query, "params": {}}, "u", role)
    else:
        with pytest.raises(AccessDenied):
            store.create("list_csv", {"query": query, "params": {}}, "u", role)


def test_cli_refuses_the_worklist_as_a_list_for_management(demo_data_dir, use_data_dir, capsys):
    from dashboard.cli import main

    use_data_dir(demo_data_dir)
    code = main(["export", "list_csv", "--role", "management", "--user", "chef", "--query", "deletion_worklist",
                 "--params", '{"as_of": "2026-11-26", "system": "helpdesk"}'])
    assert code == 2 and "may not create list 'deletion_worklist'" in capsys.readouterr().err
    assert access.pages_for("management") == [p.id for p in REGISTRY if p.id != "datenqualitaet"]


# --- the app, signed in through OIDC (st.user) -------------------------------------------------

USERS = {
    "dpo": DPO,
    "auditor": {**SIGNED, "email": "pruefer@extern.example", "groups": ["dsgvo-pruefung"]},
    "management": {**SIGNED, "email": "chef@aelvirionek.example", "groups": ["geschaeftsleitung"]},
}


@pytest.fixture
def oidc(demo_data_dir, use_data_dir, monkeypatch):
    use_data_dir(demo_data_dir)

    def run(user: dict, page: str | None = None) -> AppTest:
        return signed_in_app(monkeypatch, user, page)

    return run


def _texts(at: AppTest) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in at.main) + " " + " ".join(
        str(df.value.to_string()) for df in at.dataframe)


def test_signed_out_sees_the_sign_in_button_only(oidc):
    at = oidc({"is_logged_in": False})
    assert not at.exception
    assert [b.label for b in at.button] == ["Anmelden"] and not at.metric and not at.dataframe


def test_unknown_identity_is_denied(oidc):
    at = oidc({**SIGNED, "email": "stranger@example.com"})
    assert not at.exception
    assert any("Kein Zugriff" in e.value for e in at.error)
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("claims", [
    {"email_verified": False}, {"email_verified": None}, {"email_verified": "false"},  # not verified
    {"iss": "https://evil.example"},  # another provider
], ids=["unverified", "no-claim", "string-false", "other-issuer"])
def test_a_dpo_email_counts_only_verified_and_from_the_pinned_issuer(oidc, claims):
    """The DPO's e-mail, unverified or from another issuer, grants nothing."""
    at = oidc({**USERS["dpo"], **claims})
    assert not at.exception
    assert any("Kein Zugriff" in e.value for e in at.error)
    assert not at.metric and not at.dataframe


def test_oidc_claims_decide_the_identity(monkeypatch):
    monkeypatch.delenv("DASHBOARD_OIDC_TENANT", raising=False)
    base = {"iss": ISSUER, "email": "a@b", "email_verified": True}
    assert access.identity_from_claims({**base, "groups": ["g1", "g2"]}, ISSUER).groups == ("g1", "g2")
    assert access.identity_from_claims({**base, "groups": "dsgvo-dsb"}, ISSUER).groups == ()  # not a list
    assert access.identity_from_claims({**base, "groups": [{"x": 1}]}, ISSUER).groups == ()
    entra = {"iss": "https://login.microsoftonline.com/T1/v2.0", "email": "a@b", "xms_edov": True, "tid": "T1"}
    template = "https://login.microsoftonline.com/{tenantid}/v2.0"
    with pytest.raises(AccessDenied, match="does not trust"):  # multi-tenant without a pinned tenant
        access.oidc_expected_issuer(template)
    monkeypatch.setenv("DASHBOARD_OIDC_TENANT", "T1")
    issuer = access.oidc_expected_issuer(template)
    assert access.identity_from_claims(entra, issuer).email == "a@b"
    for other in ({"tid": "T2"}, {"iss": "https://login.microsoftonline.com/T2/v2.0"}):
        with pytest.raises(AccessDenied, match="does not trust"):
            access.identity_from_claims({**entra, **other}, issuer)
    monkeypatch.setenv("DASHBOARD_OIDC_ISSUER", "https://pinned.example")
    assert access.oidc_expected_issuer("https://from-metadata.example") == "https://pinned.example"


PAGES = tuple(p.script for p in REGISTRY if p.roles is None)  # Datenqualität: its own tests below


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["dpo", "auditor", "management"])
def test_each_role_on_each_page(oidc, role, page):
    at = oidc(USERS[role], page)
    assert not at.exception, [e.value for e in at.exception]
    # the error boundary turns a crash into a message: none may be on the page
    assert not [e.value for e in at.error if "Unerwarteter Fehler" in e.value]
    assert any(f"({access_label(role)})" in c.value for c in at.sidebar.caption)
    for frame in (df.value for df in at.dataframe):
        personal = [c for c in frame.columns if c in data.PERSONAL_COLUMNS | data.FREE_TEXT_COLUMNS]
        if role == "management":  # left out, not shown as whole columns of placeholders
            assert not personal, (page, personal)
    if role == "management" and page == "views/requests.py":
        assert all(w.key != "requests_assignees" for w in at.multiselect)


def access_label(role: str) -> str:
    from dashboard.i18n import code_labels

    return code_labels("role", "de")[role]


def test_management_sees_no_demo_names_anywhere(oidc, demo_data_dir):
    """No name or email of the demo contacts appears on any page for management."""
    import polars as pl

    contacts = pl.read_csv(demo_data_dir / "demo" / "helpdesk" / "contacts.csv")
    names = set(contacts["last_name"].head(300)) | set(contacts["email"].drop_nulls().head(300))
    for page in PAGES:
        at = oidc(USERS["management"], page)
        text = _texts(at)
        leaked = [n for n in names if n and n in text]
        assert not leaked, (page, leaked[:3])


def test_quality_page_is_not_registered_for_management(oidc):
    at = oidc(USERS["management"])
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered for the role
        at.switch_page("views/quality.py").run()
    at = oidc(USERS["auditor"], "views/quality.py")
    assert not at.exception and at.dataframe
