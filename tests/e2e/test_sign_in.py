"""Sign-in for real: OpenID Connect end to end in Chromium against a real provider.

``oidc-provider-mock`` (a small OpenID provider made for tests) runs on a free local port; the app
runs with ``DASHBOARD_AUTH=oidc`` and a secrets file generated here (never a checked-in secret).
Signing in goes through the provider's authorization form and the app's /oauth2callback, so the
redirect, the token, the e-mail and groups claims and the cookie are all real.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, serve, wait_idle

oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

VERIFIED = {"email_verified": True}
PEOPLE = {
    # sub -> claims the provider puts into the ID token
    "dsb": {"email": "datenschutz@aelvirionek.example", **VERIFIED},
    "chef": {"email": "chef@aelvirionek.example", "groups": ["geschaeftsleitung"], **VERIFIED},  # role by group
    "gf": {"email": "geschaeftsfuehrung@aelvirionek.example", **VERIFIED},  # role by e-mail
    "pruefer": {"email": "pruefer@aelvirionek.example", "groups": ["dsgvo-pruefung"], **VERIFIED},
    "fremd": {"email": "fremd@elsewhere.example", "groups": ["dsgvo-dsb"], **VERIFIED},  # groups do not decide
    # the DPO's address, which this provider account never proved to own
    "unverified": {"email": "datenschutz@aelvirionek.example", "email_verified": False},
}


@pytest.fixture(scope="module")
def provider():
    with oidc_provider_mock.run_server_in_thread(port=free_port()) as server:
        url = f"http://localhost:{server.server_port}"
        for sub, claims in PEOPLE.items():
            assert httpx.put(f"{url}/users/{sub}", json=claims).status_code == 204
        yield url


def _secrets(folder: Path, app_port: int, provider_url: str) -> Path:
    path = folder / "secrets.toml"
    path.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "cockpit-test"
client_secret = "{secrets.token_urlsafe(16)}"
server_metadata_url = "{provider_url}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile" }}
""", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def roles(demo_data_dir) -> Path:
    path = demo_data_dir / "roles-oidc.toml"
    path.write_text('groups_decide = ["*@aelvirionek.example"]\n\n[users]\n'
                    '"datenschutz@aelvirionek.example" = "dpo"\n'
                    '"geschaeftsfuehrung@aelvirionek.example" = "management"\n\n'
                    '[groups]\n"geschaeftsleitung" = "management"\n"dsgvo-dsb" = "dpo"\n'
                    '"dsgvo-pruefung" = "auditor"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def app(demo_data_dir, provider, roles, tmp_path_factory):
    port = free_port()
    secrets_file = _secrets(tmp_path_factory.mktemp("oidc"), port, provider)
    with serve(demo_data_dir, port=port, args=("--secrets.files", str(secrets_file)), DASHBOARD_AUTH="oidc",
               DASHBOARD_ROLES_FILE=str(roles)) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    yield context.new_page()
    context.close()


def _sign_in(page, app: str, sub: str) -> None:
    page.goto(app)
    wait_idle(page)
    page.get_by_role("button", name="Anmelden").click()
    page.locator("input[name=sub]").last.fill(sub)  # the provider's authorization form
    page.get_by_role("button", name="Authorize").click()
    # Back through the app's /oauth2callback (cookie set) to the app, signed in (or refused).
    page.get_by_text(re.compile(r"^(Angemeldet:|Kein Zugriff)")).first.wait_for(timeout=30_000)
    wait_idle(page)


def _all_tiles_shown(page) -> None:
    """The overview's ten headline tiles are there (they render one area after another)."""
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stMetric]').length >= 10",
                           timeout=30_000, polling=100)


def test_sign_in_page_explains_itself(page, app):
    page.goto(app)
    wait_idle(page)
    page.get_by_role("button", name="Anmelden").wait_for(timeout=30_000)  # the last element of the page
    text = page.locator("[data-testid=stMain]").inner_text()
    assert "aelvirionek" in text and "Löschfristen" in text and "Anmelden" in text
    assert page.locator("[data-testid=stMetric]").count() == 0


def test_dpo_signs_in_sees_everything_and_signs_out(page, app):
    _sign_in(page, app, "dsb")
    assert page.get_by_text("Angemeldet: datenschutz@aelvirionek.example (Datenschutzbeauftragte/r)").count() == 1
    _all_tiles_shown(page)
    assert page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Datenqualität").count() == 1
    page.get_by_role("button", name="Abmelden").click()
    # Streamlit clears its cookie and sends the browser to the provider's end-session page.
    page.wait_for_url(re.compile(r"localhost:\d+/oauth2/end_session"), timeout=30_000)
    page.goto(app)  # the next page load asks to sign in again
    wait_idle(page)
    assert page.get_by_role("button", name="Anmelden").count() == 1
    assert page.locator("[data-testid=stMetric]").count() == 0


@pytest.mark.parametrize("sub", ["chef", "gf"])
def test_management_by_group_or_by_email_sees_no_dpo_page(page, app, sub):
    _sign_in(page, app, sub)
    assert page.get_by_text("(Geschäftsführung)").count() == 1
    _all_tiles_shown(page)
    assert page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Datenqualität").count() == 0
    page.goto(f"{app}/datenqualitaet")
    wait_idle(page)
    assert page.get_by_text("ist für die Rolle „Geschäftsführung“ nicht freigegeben").count() == 1
    assert page.get_by_text("Abgewiesene Zeilen").count() == 0


def test_auditor_by_group_reads_everything_but_exports_no_personal_data(page, app):
    _sign_in(page, app, "pruefer")
    assert page.get_by_text("(Prüfer/in)").count() == 1
    page.get_by_role("link", name="Exporte").click()
    wait_idle(page)
    assert page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Datenqualität").count() == 1
    assert page.get_by_text("Audit-Trail").count() >= 1
    assert page.get_by_role("button", name="Auskunftspaket Art. 15 (ZIP)").count() == 0


def test_unknown_identity_gets_nothing(page, app):
    _sign_in(page, app, "fremd")  # its groups claim says DPO, but groups do not decide for this identity
    assert page.get_by_text("Kein Zugriff").count() >= 1
    assert page.locator("[data-testid=stMetric]").count() == 0
    assert page.get_by_role("link", name="Löschfristen").count() == 0


def test_an_unverified_email_gets_nothing(page, app):
    """The DPO's e-mail claim, not verified by the provider, grants no role."""
    _sign_in(page, app, "unverified")
    assert page.get_by_text("Kein Zugriff").count() >= 1
    assert page.locator("[data-testid=stMetric]").count() == 0
    assert page.get_by_text("Datenschutzbeauftragte/r").count() == 0


def test_removed_identity_loses_access_at_the_next_interaction(page, app, roles):
    original = roles.read_text(encoding="utf-8")
    _sign_in(page, app, "gf")
    _all_tiles_shown(page)
    try:
        roles.write_text(original.replace('"geschaeftsfuehrung@aelvirionek.example" = "management"\n', ""),
                         encoding="utf-8")
        page.get_by_role("link", name="Löschfristen").click()  # the same session, no new sign-in
        page.get_by_text("Kein Zugriff").first.wait_for(timeout=30_000)  # the rerun may start late when busy
        wait_idle(page)
        assert page.locator("[data-testid=stMetric]").count() == 0
    finally:
        roles.write_text(original, encoding="utf-8")


def test_unreachable_provider_is_said_plainly(browser, demo_data_dir, roles, tmp_path):
    port = free_port()
    secrets_file = _secrets(tmp_path, port, f"http://localhost:{free_port()}")  # nobody listens there
    with serve(demo_data_dir, port=port, args=("--secrets.files", str(secrets_file)), DASHBOARD_AUTH="oidc",
               DASHBOARD_ROLES_FILE=str(roles)) as url:
        context = browser.new_context(locale="de-DE")
        page = context.new_page()
        page.goto(url)
        wait_idle(page)
        assert page.get_by_text("Der Anmeldedienst").count() == 1
        assert page.get_by_role("button", name="Anmelden").count() == 0
        assert page.locator("[data-testid=stException]").count() == 0
        context.close()
