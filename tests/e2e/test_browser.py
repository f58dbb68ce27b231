"""The app in a real browser: every page renders without an error element; new data shows up."""

from __future__ import annotations

import re
import time

import pytest

from dashboard import jobs
from dashboard.build import build_snapshot
from tests.e2e.conftest import URL_PAGES, free_port, serve, wait_idle
from tests.e2e.helpers import choose, select_first_row


def test_overview_renders_with_figures(server, page, tmp_path):
    page.goto(server)
    wait_idle(page)
    page.wait_for_selector("[data-testid=stMetric]", timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("Offene Anfragen").count() >= 1
    assert page.get_by_text("Datenstand").count() >= 1
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    assert (tmp_path / "overview.png").stat().st_size > 10_000


# Seconds from a direct load, and from a reload, to the page's first figure on the small demo (budget:
# 1.5 s). Measured here 0.5-1.2 s for every page; the first view after a server start 0.6-0.9 s (it was
# 2.4 s before `python -m dashboard serve` imported and warmed before the first visit).
FIRST_PAINT_BUDGET = 1.5
FIGURES = "[data-testid=stMetricValue], [data-testid=stDataFrame]"
# Best of three of each kind: the browser, not the app, decides the spread on a busy machine. On 12-06 one
# page gave 1.27-2.0 s over 8 loads in a row while the app's own run took 0.11 s, and the code of the
# morning (89e6507) crossed the budget under best of two as often as the evening's.
TRIES = 3
# When a figure was first in a painted frame, by the page's own clock: checked on every animation frame
# (the last step before the browser paints). Playwright's selector wait cannot say: it looks after 0, 20,
# 70, 170 and 270 ms and then every 500 ms, so it reported an element shown 0.9 s after the wait began at
# 1.30 s and one shown at 0.3 s at 0.79 s (12-07: 90-494 ms late); CI's Löschfristen failed at 1.55 s so.
# The probes: the figures (tiles, tables) and the Exporte page's audit heading.
PAINT_CLOCK = """
(() => {
  const probes = {
    figures: () => document.querySelector('FIGURES'),
    audit: () => [...document.querySelectorAll('h3')].find(h => h.textContent.includes('Audit-Trail')),
  };
  const shown = el => !!el && el.checkVisibility() && el.getBoundingClientRect().height > 0;
  window.__painted = {};
  const frame = () => {
    for (const [name, probe] of Object.entries(probes)) {
      if (!(name in window.__painted) && shown(probe())) {
        window.__painted[name] = performance.timeOrigin + performance.now();
      }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();
""".replace("FIGURES", FIGURES)


def _first_paint(page, load, probe: str = "figures") -> float:
    """Seconds from asking for the page to the first painted frame that shows ``probe`` (the context
    carries PAINT_CLOCK)."""
    start = time.time() * 1000
    load()
    painted = page.wait_for_function("name => window.__painted && window.__painted[name]", arg=probe,
                                     timeout=30_000).json_value()
    wait_idle(page)  # the run finishes before the next load starts
    return (painted - start) / 1000


@pytest.mark.solo  # a paint time: measured on a quiet machine, not next to other tests
def test_every_page_renders_and_paints_its_figures_quickly(server, page):
    """The first paint of every page's figures, from a direct load and from a reload, each within the
    budget; then the page, rendered to the end, shows no error element."""
    slow = {}
    page.context.add_init_script(PAINT_CLOCK)
    page.goto(server)  # the browser's first visit fetches the app's assets: not a page's paint
    wait_idle(page)
    for path in URL_PAGES:
        probe = "figures" if path != "exporte" else "audit"
        for kind, load in (("load", lambda url=f"{server}/{path}": page.goto(url)), ("reload", page.reload)):
            best = min(_first_paint(page, load, probe) for _ in range(TRIES))
            print(f"first paint {path or 'uebersicht'} ({kind}): {best:.2f} s")
            if best > FIRST_PAINT_BUDGET:
                slow[f"{path or 'uebersicht'} ({kind})"] = round(best, 2)
        page.wait_for_selector("h1", timeout=30_000)
        assert page.locator("[data-testid=stException]").count() == 0, path
        assert page.get_by_text("Page not found").count() == 0, path
        assert page.get_by_text("Unerwarteter Fehler").count() == 0, path
    assert not slow, slow


@pytest.mark.solo
def test_first_view_after_a_server_restart_is_quick(browser, demo_data_dir):
    """After a restart (a deploy, a reboot) the first user does not pay for the app's imports and cold
    queries: the launcher does both before the first visit. The browser has the app's assets cached
    from before the restart, as a returning user's has."""
    port = free_port()
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="de-DE")
    context.add_init_script(PAINT_CLOCK)
    page = context.new_page()
    try:
        with serve(demo_data_dir, port=port) as url:
            _first_paint(page, lambda: page.goto(url))
        with serve(demo_data_dir, port=port) as url:
            seconds = _first_paint(page, lambda: page.goto(url))
        print(f"first view after a restart: {seconds:.2f} s")
        assert seconds <= FIRST_PAINT_BUDGET
    finally:
        context.close()


def _snapshot_version(page) -> str:
    """The live snapshot's version, from the tooltip of the sidebar's Datenstand (shown to the minute)."""
    page.locator("[data-testid=stSidebar] [data-testid=stTooltipIcon]").first.hover()
    tooltip = page.locator("[data-testid=stTooltipContent]").first
    tooltip.wait_for(timeout=10_000)
    version = tooltip.inner_text()
    page.mouse.move(700, 500)
    return version


def test_new_snapshot_shows_after_rerun(server, page, demo_data_dir):
    page.goto(server)
    wait_idle(page)
    assert re.fullmatch(r"Datenstand: \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr", page.get_by_text(
        re.compile(r"^Datenstand:")).inner_text().strip())  # to the minute, as an office writes it
    before = _snapshot_version(page)
    assert before.startswith("Version snapshot-")
    build_snapshot(data_dir=demo_data_dir, full=True)  # a new version (nothing changed would keep the live one)
    page.locator("h1").first.click()
    page.keyboard.press("r")  # Streamlit's rerun shortcut: the same session, no reload
    wait_idle(page)
    deadline = time.monotonic() + 30
    while _snapshot_version(page) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _snapshot_version(page) != before
    assert page.locator("[data-testid=stException]").count() == 0


def test_short_list_downloads_at_once_for_people_and_is_audited(server, page, tmp_path, demo_data_dir):
    """A list of a few thousand rows downloads at the click (no second step): the page's German titles
    and labels, dd.mm.yyyy, every row; the download is in the audit trail; the tables' own toolbar
    offers no download of its own."""
    page.goto(f"{server}/loeschfristen")
    wait_idle(page)
    tile = page.locator("[data-testid=stMetric]").filter(has_text="Löschung fällig")
    due = int(tile.locator("[data-testid=stMetricValue]").inner_text().replace(".", ""))
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=re.compile(r"^Liste als CSV \(")).first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for German Excel
    lines = raw.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Kategorie;System;Art;Datensatz")
    assert re.search(r";\d\d\.\d\d\.\d{4};", lines[1]) and ";fällig;" in lines[1]
    assert len(lines) - 1 == due > 500  # all due records, not the page of 500 on screen
    # the grid's toolbar has no "Download as CSV" (only audited downloads exist)
    page.locator("[data-testid=stDataFrame]").first.hover()
    assert page.get_by_role("button", name="Download as CSV").count() == 0
    entries = jobs.JobStore(demo_data_dir / "state" / "jobs.sqlite").audit_entries(kind="list_csv", limit=2)
    assert [(e["action"], e["user"], e["rows"]) for e in entries] == [("download", "demo:dpo", due),
                                                                      ("export", "demo:dpo", due)]


def test_management_cannot_reach_dpo_pages_by_url(browser, demo_data_dir):
    """Behind the company proxy (header sign-in), a management user typing a DPO page's URL is told
    that the page is not open to the role; nothing of it renders and the menu does not list it."""
    roles = demo_data_dir / "roles-e2e.toml"
    roles.write_text('[users]\n"chef@aelvirionek.example" = "management"\n"dsb@aelvirionek.example" = "dpo"\n',
                     encoding="utf-8")
    secret = "e2e-proxy-secret-0123456789abcdef"
    with serve(demo_data_dir, DASHBOARD_AUTH="proxy", DASHBOARD_ROLES_FILE=str(roles),
               DASHBOARD_PROXY_SECRET=secret) as url:
        for user, reaches in (("chef@aelvirionek.example", False), ("dsb@aelvirionek.example", True)):
            context = browser.new_context(extra_http_headers={"X-Auth-Request-Email": user,
                                                              "X-Cockpit-Proxy-Secret": secret})
            page = context.new_page()
            page.goto(f"{url}/datenqualitaet")
            wait_idle(page)
            page.wait_for_selector("h1", timeout=30_000)
            assert page.locator("h1").first.inner_text() == "Datenqualität"
            refused = page.get_by_text("ist für die Rolle „Geschäftsführung“ nicht freigegeben")
            assert (refused.count() == 1) is not reaches, user
            if not reaches:
                assert page.get_by_text("Abgewiesene Zeilen").count() == 0
            menu = page.locator("[data-testid=stSidebarNav]")
            assert (menu.get_by_role("link", name="Datenqualität").count() > 0) is reaches
            context.close()
        # Without the header nobody gets in; nor with it but without the proxy's secret (a
        # process on the same host connecting to 127.0.0.1 directly), and the refusal names no header.
        for headers in ({}, {"X-Auth-Request-Email": "dsb@aelvirionek.example"}):
            context = browser.new_context(extra_http_headers=headers)
            page = context.new_page()
            page.goto(url)
            wait_idle(page)
            assert page.get_by_text("Kein Zugriff").count() >= 1
            assert page.locator("[data-testid=stMetric]").count() == 0
            assert "X-Auth" not in page.content() and "X-Cockpit" not in page.content()
            context.close()


def _metric(page, label: str) -> int:
    tile = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)).first
    return int(tile.locator("[data-testid=stMetricValue]").inner_text().replace(".", ""))


def _caption_total(page) -> int:
    text = page.get_by_text(re.compile(r"^[\d.]+ von [\d.]+ Zeilen angezeigt$")).first.inner_text()
    return int(text.split(" von ")[1].split()[0].replace(".", ""))


def test_language_switch_changes_the_labels_and_survives_navigation(server, page):
    page.goto(server)
    wait_idle(page)
    choose(page, "Sprache", "English")
    page.wait_for_selector("text=Open requests", timeout=30_000)
    assert page.get_by_text("Offene Anfragen").count() == 0
    page.get_by_role("link", name="Data-subject requests").click()
    wait_idle(page)
    page.wait_for_selector("h1:has-text('Data-subject requests')", timeout=30_000)


def test_tile_click_opens_the_filtered_page(server, page):
    page.goto(server)
    wait_idle(page)
    overdue = _metric(page, "Überfällige Anfragen")
    tile = page.locator("[data-testid=stVerticalBlock]").filter(
        has=page.get_by_text("Überfällige Anfragen", exact=True)).last
    tile.get_by_role("button", name="Details").click()
    wait_idle(page)
    page.wait_for_selector("h1:has-text('Betroffenenanfragen')", timeout=30_000)
    assert page.locator("input[aria-label='Nur überfällige']").is_checked()  # in the filter expander
    assert overdue > 0 and page.locator("[data-testid=stException]").count() == 0


def test_requests_look_ahead(server, page):
    page.goto(f"{server}/anfragen")
    wait_idle(page)
    before = _metric(page, "Überfällig")
    year = page.locator("[data-testid=stDateInput]").first.get_by_role("spinbutton").nth(2)
    year.click()
    page.keyboard.type("2027")
    page.keyboard.press("Enter")  # applies the typed date, without closing the field first
    page.wait_for_function(  # a year on, more requests are overdue
        "before => { const t = [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".find(e => e.innerText.startsWith('Überfällig\\n')); "
        "return t && parseInt(t.querySelector('[data-testid=stMetricValue]').innerText.replace('.', '')) > before }",
        arg=before, timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0  # the drill-down: test_journeys.py


def test_retention_status_filter(server, page):
    page.goto(f"{server}/loeschfristen")
    wait_idle(page)
    due, held = _metric(page, "Löschung fällig"), _metric(page, "Gesperrt (Hold)")
    assert _caption_total(page) == due
    choose(page, "Status", "gesperrt")
    page.wait_for_function(
        "total => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => e.innerText.endsWith(' von ' + total + ' Zeilen angezeigt'))",
        arg=f"{due + held:,}".replace(",", "."), timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0


def test_consent_finding_opens_its_list(server, page):
    page.goto(f"{server}/einwilligungen")
    wait_idle(page)
    finding = page.get_by_role("radio", name=re.compile(r"^Opt-in offen > 30 Tage"))
    finding.click()
    wait_idle(page)
    assert finding.get_attribute("aria-checked") == "true"
    expected = int(finding.inner_text().split("(")[1].rstrip(")").replace(".", ""))
    assert expected == 0 or page.locator("[data-testid=stDataFrame]").count() == 1
    assert page.locator("[data-testid=stException]").count() == 0


def test_incident_selection_shows_its_timeline(server, page):
    page.goto(f"{server}/datenpannen")
    wait_idle(page)
    select_first_row(page, table=0)
    page.wait_for_selector("text=Verlauf von", timeout=30_000)
    page.wait_for_selector("text=72-h-Frist:", timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
