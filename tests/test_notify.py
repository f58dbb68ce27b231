"""Deadlines that come to the DPO: digests, breach alerts and the calendar, sent to a real SMTP
server (aiosmtpd on a free port) and parsed back with Python's ``email`` package."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import shutil
import socket

import icalendar
import polars as pl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dashboard import calendar_ics, data, jobs, notify
from dashboard.policy import load_policy
from dashboard.snapshot import current_snapshot
from tests.helpers import AS_OF

NOW = dt.datetime.combine(AS_OF, dt.time(11), dt.UTC)  # the demo's situations sit around AS_OF noon
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
BASE = "https://cockpit.example.org"
USER, PASSWORD = "cockpit", "richtiges-passwort"


class Sink:
    """What the SMTP server accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int, login: bool = False):
        self.sink = Sink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=port, auth_require_tls=False,
                                     authenticator=_authenticator if login else None, auth_required=login)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self.sink

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.fixture
def data_dir(demo_data_dir, tmp_path, use_data_dir):
    """The demo snapshot in a data dir of this test's own (the notify state lives there)."""
    shutil.copytree(demo_data_dir / "snapshots", tmp_path / "snapshots")
    return use_data_dir(tmp_path)


def _settings(tmp_path, port: int, recipients: str, login: bool = False) -> notify.Settings:
    auth = 'user_env = "TEST_SMTP_USER"\npassword_env = "TEST_SMTP_PASSWORD"\n' if login else ""
    path = tmp_path / "notify.toml"
    path.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "cockpit@example.org"\n'
                    f'{auth}\n[cockpit]\nbase_url = "{BASE}"\n\n{recipients}', encoding="utf-8")
    return notify.load_settings(path)


DPO = '[[recipients]]\naddress = "dsb@example.org"\nrole = "dpo"\nlanguage = "de"\ncadence = "daily"\n'
MANAGEMENT = '[[recipients]]\naddress = "chef@example.org"\nrole = "management"\nlanguage = "en"\ncadence = "weekly"\n'


def _parts(msg) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def _personal_data(demo_data_dir) -> list[str]:
    """Every name, e-mail address and phone number of the demo's data subjects."""
    contacts = pl.read_csv(demo_data_dir / "demo" / "helpdesk" / "contacts.csv", infer_schema=False)
    values = [f"{r['first_name']} {r['last_name']}" for r in contacts.iter_rows(named=True) if r["last_name"]]
    values += [v for column in ("email", "phone") if column in contacts.columns for v in contacts[column] if v]
    return values


def _queue(clock: str) -> list[str]:
    con = data.connect(current_snapshot())
    try:
        queue = calendar_ics.open_requests(con, AS_OF, load_policy().settings)
    finally:
        con.close()
    return [r["request_id"] for r in queue if r["clock"] == clock]


def test_the_dpo_gets_the_queue_of_the_day_and_an_alert_per_running_clock(data_dir, demo_data_dir, tmp_path):
    port = _free_port()
    settings = _settings(tmp_path, port, DPO + MANAGEMENT)
    with Server(port) as sink:
        assert notify.run(settings, now=NOW, out=lambda _: None) == []
    to_dpo = [m for m in sink.messages if m["To"] == "dsb@example.org"]
    alerts, digests = to_dpo[:-1], to_dpo[-1:]
    assert len(digests) == 1
    digest = digests[0]
    text, html = _parts(digest)
    overdue, soon = _queue("overdue"), _queue("due_soon")
    # Exactly the overdue and due-soon requests the queue shows for that day, and no other open one.
    section = text.split("Überfällige Anfragen")[1].split("Laufende 72-Stunden-Fristen")[0]
    listed = re.findall(r"^- (\S+) ·", section, flags=re.M)
    assert listed == overdue + soon and overdue and soon
    assert digest["Subject"].startswith(f"{len(overdue)} Anfragen überfällig, ")
    assert "Datenpanne" in digest["Subject"] and "h verbleibend" in digest["Subject"]
    assert f"{BASE}/anfragen?request={overdue[0]}" in text and f'href="{BASE}/anfragen?request={overdue[0]}"' in html
    assert re.search(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr", text)  # Berlin time as an office writes it
    # One alert per breach whose clock runs, each linking to its breach.
    running = re.findall(r"^- (INC\S+):", text.split("Laufende 72-Stunden-Fristen")[1], flags=re.M)
    assert sorted(m["Subject"].split(" – ")[1].split(":")[0] for m in alerts) == sorted(running) and running
    assert all(f"{BASE}/datenpannen?incident=" in _parts(m)[0] for m in alerts)
    # Deletion tasks a system did not finish, each linking to Löschfristen.
    deletions = text.split("Löschaufträge nicht abgeschlossen")[1].split("\n\n")[0]
    assert "Helpdesk: Auftrag #LH-DSR-DEMO-13-erasure-not-done fehlgeschlagen (angelegt " in deletions
    assert "Verträge & Abrechnung: Auftrag #LB-DSR-DEMO-13-erasure-not-done seit " in deletions
    assert f"{BASE}/loeschfristen" in deletions
    # The calendar rides along.
    attachment = next(digest.iter_attachments())
    assert attachment.get_filename() == "fristen.ics"
    events = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert {str(e["UID"]) for e in events} >= {f"request-{r}@{calendar_ics.UID_DOMAIN}" for r in overdue + soon}
    # Management: English, weekly, the headline figures and no case ids at all.
    (management,) = [m for m in sink.messages if m["To"] == "chef@example.org"]
    figures, _ = _parts(management)
    assert management["Subject"].startswith("Data protection figures of") and "Open requests:" in figures
    assert not re.search(r"DSR|INC-|C\d{5}", figures)
    # Nothing in any mail identifies a data subject.
    everything = "\n".join(p for m in sink.messages for p in _parts(m)) + "\n".join(m["Subject"] for m in sink.messages)
    everything += "\n".join(str(a.get_content()) for m in sink.messages for a in m.iter_attachments())
    leaked = [v for v in _personal_data(demo_data_dir) if v.lower() in everything.lower()]
    assert leaked == []
    # The same day again: nothing is sent twice.
    with Server(port) as sink:
        assert notify.run(settings, now=NOW + dt.timedelta(hours=1), out=lambda _: None) == []
    assert sink.messages == []


def test_a_new_breach_is_alerted_at_the_next_refresh(data_dir, tmp_path):
    """Before a breach's awareness nothing is said of it; the first run after it sends its alert."""
    con = data.connect(current_snapshot())
    aware = con.sql("SELECT aware_at FROM incidents WHERE incident_id = 'INC-DEMO-01-open'").fetchall()[0][0]
    con.close()
    port = _free_port()
    settings = _settings(tmp_path, port, DPO.replace('"daily"', '"action"'))
    with Server(port) as sink:
        notify.run(settings, now=aware - dt.timedelta(minutes=30), out=lambda _: None)
    assert not any("INC-DEMO-01-open" in m["Subject"] for m in sink.messages)
    with Server(port) as sink:
        notify.run(settings, now=aware + dt.timedelta(minutes=30), out=lambda _: None)
    assert [m["Subject"] for m in sink.messages if "INC-DEMO-01-open" in m["Subject"]] == [
        "Datenpanne – INC-DEMO-01-open: noch 72 h bis zur Meldung an die Aufsichtsbehörde "
        f"(Frist {(aware + dt.timedelta(hours=72)).astimezone(calendar_ics.BERLIN):%d.%m.%Y, %H:%M} Uhr)"]


@pytest.mark.parametrize("fault", ["server down", "login refused"])
def test_a_failed_send_loses_nothing_and_sends_once_later(fault, data_dir, tmp_path, monkeypatch):
    port = _free_port()
    settings = _settings(tmp_path, port, DPO, login=True)
    monkeypatch.setenv("TEST_SMTP_USER", USER)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "falsch" if fault == "login refused" else PASSWORD)
    state = notify.state_path()
    if fault == "server down":
        failures = notify.run(settings, now=NOW, out=lambda _: None)
    else:
        with Server(port, login=True) as sink:
            failures = notify.run(settings, now=NOW, out=lambda _: None)
        assert sink.messages == []
    assert len(failures) == 1 and "\n" not in failures[0]
    assert ("login refused" if fault == "login refused" else "ConnectionRefusedError") in failures[0]
    assert "falsch" not in failures[0] and PASSWORD not in failures[0]
    assert notify.load_state(state).get("dsb@example.org", {}) == {}  # nothing recorded as sent
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    with Server(port, login=True) as sink:
        assert notify.run(settings, now=NOW, out=lambda _: None) == []
        sent = len(sink.messages)
        assert notify.run(settings, now=NOW, out=lambda _: None) == []
        assert len(sink.messages) == sent and sent >= 2  # the alerts and the digest, once


def test_dry_run_prints_and_sends_nothing(data_dir, tmp_path, monkeypatch, capsys):
    from dashboard.cli import main

    port = _free_port()
    _settings(tmp_path, port, DPO)
    monkeypatch.setenv("DASHBOARD_NOTIFY", str(tmp_path / "notify.toml"))
    with Server(port) as sink:
        assert main(["digest", "--dry-run"]) == 0
    assert sink.messages == [] and not notify.state_path().exists()
    assert "--- to dsb@example.org (dpo, de):" in capsys.readouterr().out


def test_settings_errors_name_the_key(tmp_path):
    path = tmp_path / "notify.toml"
    path.write_text('[smtp]\nhost = "h"\nport = 25\nsecurity = "ssl"\nsender = "a@b"\n', encoding="utf-8")
    with pytest.raises(notify.NotifyError, match="smtp.security"):
        notify.load_settings(path)
    path.write_text('[smtp]\nhost = "h"\nport = 25\nsender = "a@b"\n[[recipients]]\naddress = "x@y"\n'
                    'cadence = "hourly"\n', encoding="utf-8")
    with pytest.raises(notify.NotifyError, match=r"recipients\[0\].cadence"):
        notify.load_settings(path)
    notify.load_settings(notify.paths.PROJECT_ROOT / "data" / "notify.example.toml")  # the example is valid


def test_cadences():
    monday = dt.datetime(2026, 11, 30, 6, tzinfo=dt.UTC)
    sent = (monday - dt.timedelta(days=1)).isoformat()
    assert notify.cadence_due("daily", sent, monday, False) and not notify.cadence_due("daily", monday.isoformat(),
                                                                                       monday, True)
    assert not notify.cadence_due("weekly", sent, monday, True)
    assert notify.cadence_due("weekly", (monday - dt.timedelta(days=7)).isoformat(), monday, False)
    assert not notify.cadence_due("action", sent, monday, False) and notify.cadence_due("action", sent, monday, True)


def test_the_calendar_keeps_its_uids_and_its_download_is_audited(data_dir, tmp_path):
    con = data.connect(current_snapshot())
    settings = load_policy().settings
    try:
        first = icalendar.Calendar.from_ical(calendar_ics.build(con, NOW, settings, "de", BASE))
        later = icalendar.Calendar.from_ical(calendar_ics.build(con, NOW + dt.timedelta(minutes=7), settings))
        queue = {r["request_id"]: r for r in calendar_ics.open_requests(con, AS_OF, settings)}
        breaches = {b["incident_id"]: b for b in calendar_ics.running_breaches(con, NOW, settings)}
    finally:
        con.close()
    uids = [str(e["UID"]) for e in first.walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in later.walk("VEVENT")] and len(uids) == len(set(uids))
    assert len(uids) == len(queue) + len(breaches)
    for event in first.walk("VEVENT"):
        uid = str(event["UID"])
        assert event.walk("VALARM")  # a reminder
        if uid.startswith("request-"):
            request = queue[uid.removeprefix("request-").split("@")[0]]
            assert event.decoded("DTSTART") == request["deadline"]  # all-day, the binding deadline
            assert str(event["SUMMARY"]).endswith(request["request_id"])
        else:
            breach = breaches[uid.removeprefix("breach-").split("@")[0]]
            assert event.decoded("DTSTART") == breach["notification_deadline"]  # the exact instant
    store = jobs.JobStore()
    blob = jobs.JobRunner(store).run_now("deadlines_ics", {"lang": "de"}, "dsb", "dpo")
    assert blob.startswith(b"BEGIN:VCALENDAR")
    assert [e["action"] for e in store.audit_entries(kind="deadlines_ics")] == ["download", "export"]
    with pytest.raises(Exception, match="may not"):
        store.create("deadlines_ics", {}, "chef", "management")
