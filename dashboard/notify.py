"""Deadlines that come to the DPO: ``python -m dashboard digest`` sends each recipient's digest when its
cadence is due, and breach alerts to the DPO at once, by SMTP (see ``dashboard.digest`` for what a mail
says).

The recipients, the SMTP server and the cockpit's address are in ``DASHBOARD_NOTIFY`` (default
``data/notify.toml``, git-ignored; ``data/notify.example.toml`` shows the shape). User and password come
only from the environment variables the file names. What was sent to whom is kept in
``DATA_DIR/state/notify.json`` and advanced only after the server accepted the message: a failed send
(server down, login refused) leaves it as it was, says so in one line, and is sent once at the next run.
The snapshot unit runs this after every build (nightly, and hourly where the hourly timer is enabled).
Plain Python, no Streamlit import.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from dashboard import calendar_ics, data, digest, paths
from dashboard.deadlines import BERLIN
from dashboard.errors import DashboardError, first_line, read_toml
from dashboard.i18n import LANGUAGES
from dashboard.policy import load_policy
from dashboard.snapshot import last_check, usable_snapshot

SECURITY = ("starttls", "tls", "none")
CADENCES = ("daily", "weekly", "action")
ROLES = ("dpo", "management")
TIMEOUT_S = 30
ICS_NAME = "fristen.ics"


class NotifyError(DashboardError, ValueError):
    """The notification settings are wrong, or a message could not be sent; the message says which."""

    label = "errors.export"


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str
    sender: str
    user_env: str | None = None
    password_env: str | None = None


@dataclass(frozen=True)
class Recipient:
    address: str
    role: str
    language: str = "de"
    cadence: str = "daily"


@dataclass(frozen=True)
class Settings:
    smtp: Smtp
    base_url: str | None
    recipients: tuple[Recipient, ...]


def config_path() -> Path:
    configured = os.environ.get("DASHBOARD_NOTIFY", "").strip()
    return Path(configured) if configured else paths.PROJECT_ROOT / "data" / "notify.toml"


def load_settings(path: Path | None = None) -> Settings:
    """The notification settings, checked; an error names the file and the key."""
    path = Path(path or config_path())
    raw = read_toml(path, NotifyError, f"{path}: not found (copy data/notify.example.toml, or set DASHBOARD_NOTIFY)")

    def need(table: dict, key: str, where: str, kind: type = str):
        value = table.get(key)
        if not isinstance(value, kind) or (kind is str and not value.strip()):
            raise NotifyError(f"{path}: {where}.{key}: expected a {kind.__name__}")
        return value

    smtp_raw = raw.get("smtp", {})
    security = smtp_raw.get("security", "starttls")
    if security not in SECURITY:
        raise NotifyError(f"{path}: smtp.security: got {security!r}; expected one of {', '.join(SECURITY)}")
    smtp = Smtp(need(smtp_raw, "host", "smtp"), need(smtp_raw, "port", "smtp", int), security,
                need(smtp_raw, "sender", "smtp"), smtp_raw.get("user_env"), smtp_raw.get("password_env"))
    recipients = []
    for k, r in enumerate(raw.get("recipients", [])):
        where = f"recipients[{k}]"
        recipient = Recipient(need(r, "address", where), r.get("role", "dpo"), r.get("language", "de"),
                              r.get("cadence", "daily" if r.get("role", "dpo") == "dpo" else "weekly"))
        for key, allowed in (("role", ROLES), ("language", LANGUAGES), ("cadence", CADENCES)):
            if getattr(recipient, key) not in allowed:
                raise NotifyError(f"{path}: {where}.{key}: got {getattr(recipient, key)!r}; "
                                  f"expected one of {', '.join(allowed)}")
        recipients.append(recipient)
    if not recipients:
        raise NotifyError(f"{path}: no [[recipients]]")
    base_url = (raw.get("cockpit", {}).get("base_url") or "").strip() or None
    return Settings(smtp, base_url, tuple(recipients))


# --- what was sent ----------------------------------------------------------------------------------


def state_path() -> Path:
    return paths.data_dir() / "state" / "notify.json"


def load_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def save_state(path: Path, state: dict) -> None:
    paths.private_dir(path.parent)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    paths.private_file(part)
    os.replace(part, path)


def build_status_path() -> Path:
    return paths.data_dir() / "state" / "build_status.json"


def record_build(ok: bool, error: str | None = None, at: dt.datetime | None = None) -> None:
    """Called by ``python -m dashboard snapshot``: the last attempt's outcome, for the digest."""
    save_state(build_status_path(), {"at": (at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
                                     "ok": ok, "error": error})


def _build_failed() -> dict | None:
    status = load_state(build_status_path())
    return status if status and not status.get("ok", True) else None


def cadence_due(cadence: str, last_sent: str | None, now: dt.datetime, needs_action: bool) -> bool:
    """daily: once a Berlin day; weekly: seven days after the last; action: once a day, when something
    needs action."""
    today = now.astimezone(BERLIN).date()
    last = dt.datetime.fromisoformat(last_sent).astimezone(BERLIN).date() if last_sent else None
    if cadence == "weekly":
        return last is None or (today - last).days >= 7
    if cadence == "action" and not needs_action:
        return False
    return last is None or last < today


# --- sending ----------------------------------------------------------------------------------------


def message(smtp: Smtp, to: str, mail: digest.Mail, ics: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[-1])
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    if ics is not None:
        msg.add_attachment(ics, maintype="text", subtype="calendar", filename=ICS_NAME)
    return msg


def send(smtp: Smtp, msg: EmailMessage) -> None:
    """Hand ``msg`` to the SMTP server; raises NotifyError (one line, no password) when it is not accepted."""
    where = f"SMTP {smtp.host}:{smtp.port}"
    try:
        if smtp.security == "tls":
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_S, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S)
        with server:
            if smtp.security == "starttls":
                server.starttls(context=ssl.create_default_context())
            user = os.environ.get(smtp.user_env or "") if smtp.user_env else None
            if user:
                server.login(user, os.environ.get(smtp.password_env or "", ""))
            server.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise NotifyError(f"{where}: login refused ({exc.smtp_code}); check ${smtp.user_env} and "
                          f"${smtp.password_env}") from None
    except smtplib.SMTPResponseException as exc:
        raise NotifyError(f"{where}: the server answered {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc)
        raise NotifyError(f"{where}: {type(exc).__name__}: {reason}") from None


# --- one run ----------------------------------------------------------------------------------------


def run(settings: Settings, now: dt.datetime | None = None, dry_run: bool = False, force: bool = False,
        out=print) -> list[str]:
    """Send what is due to every recipient: breach alerts (DPO) and digests by cadence. Returns the
    failures (one line each); what was sent is recorded, what failed is sent at the next run."""
    now = now or dt.datetime.now(dt.UTC)
    policy = load_policy()
    path = state_path()
    state = load_state(path)
    live = usable_snapshot().path
    con = data.connect(live) if live is not None else None
    failures = []
    try:
        ics = {lang: calendar_ics.build(con, now, policy.settings, lang, settings.base_url)
               for lang in {r.language for r in settings.recipients if r.role == "dpo"}} if con else {}
        for r in settings.recipients:
            mine = state.setdefault(r.address, {})
            outgoing = _outgoing(r, mine, con, now, policy, settings.base_url, ics, force)
            for mail, attachment, advance in outgoing:
                msg = message(settings.smtp, r.address, mail, attachment)
                if dry_run:
                    out(f"--- to {r.address} ({r.role}, {r.language}): {mail.subject}\n{mail.text}")
                    continue
                try:
                    send(settings.smtp, msg)
                except NotifyError as exc:
                    failures.append(f"{r.address}: {exc}")
                    break  # the rest for this recipient waits for the next run, in order
                advance(mine)
                save_state(path, state)
                out(f"sent to {r.address}: {mail.subject}")
            if not outgoing:
                out(f"nothing due for {r.address} ({r.cadence})")
    finally:
        if con is not None:
            con.close()
    return failures


def _outgoing(r: Recipient, mine: dict, con, now: dt.datetime, policy, base_url, ics: dict, force: bool) -> list:
    """(mail, attachment, how the state advances once it was accepted) for one recipient."""
    stamp = now.isoformat(timespec="seconds")
    outgoing = []
    if r.role == "dpo" and con is not None:
        alerted = {tuple(a) for a in mine.get("alerted", [])}
        for b in digest.breach_alerts(con, now, policy, alerted):
            def advance(m, key=(b["incident_id"], b["clock"])):
                m["alerted"] = sorted({tuple(a) for a in m.get("alerted", [])} | {key})
            outgoing.append((digest.render_alert(b, r.language, base_url), None, advance))
    last = mine.get("last_digest")
    if r.role == "dpo":
        since = dt.datetime.fromisoformat(last) if last else now - dt.timedelta(days=7 if r.cadence == "weekly"
                                                                                   else 1)
        seen = set(mine["seen_requests"]) if "seen_requests" in mine else None
        d = digest.dpo_digest(con, now, policy, seen, mine.get("finding_counts", {}), since, _build_failed())
        d.checked_at = last_check(usable_snapshot().path)
        if force or cadence_due(r.cadence, last, now, d.needs_action):
            def advance(m, d=d):
                m.update(last_digest=stamp, seen_requests=d.seen_requests, finding_counts=d.finding_counts)
            outgoing.append((digest.render_dpo(d, r.language, base_url), ics.get(r.language), advance))
    elif con is not None and (force or cadence_due(r.cadence, last, now, True)):
        def advance(m):
            m.update(last_digest=stamp)
        outgoing.append((digest.render_management(digest.management_figures(con, now, policy), now, r.language,
                                                   base_url), None, advance))
    return outgoing
