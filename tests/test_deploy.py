"""The systemd units in deploy/ run what the docs say: the nightly build is a oneshot of the CLI
(whose exit code systemd then reports), the timer starts it, the app listens on loopback only."""

from __future__ import annotations

import configparser

from dashboard import paths

DEPLOY = paths.PROJECT_ROOT / "deploy"


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(DEPLOY / name, encoding="utf-8")
    return unit


def test_nightly_build_and_app_units():
    build = _unit("dsgvo-cockpit-snapshot.service")["Service"]
    assert build["Type"] == "oneshot" and build["ExecStart"].endswith("/python -m dashboard snapshot")
    assert build["UMask"] == "0077" and "SuccessExitStatus" not in build  # a failed build fails the unit
    timer = _unit("dsgvo-cockpit-snapshot.timer")
    assert timer["Timer"]["Unit"] == "dsgvo-cockpit-snapshot.service" and timer["Timer"]["Persistent"] == "true"
    app = _unit("dsgvo-cockpit.service")["Service"]
    assert app["ExecStart"].split()[1:4] == ["-m", "dashboard", "serve"]  # imports and warm-up before a visit
    assert "--server.address 127.0.0.1" in app["ExecStart"]
    for name, service in (("dsgvo-cockpit-snapshot.service", build), ("dsgvo-cockpit.service", app)):
        # the data dir is the one path the hardened unit may write
        assert f"DASHBOARD_DATA_DIR={service['ReadWritePaths']}" in (DEPLOY / name).read_text(encoding="utf-8")
        # the audit key and anchors: outside the data dir, in the service's own state directory
        text = (DEPLOY / name).read_text(encoding="utf-8")
        assert "DASHBOARD_AUDIT_DIR=/var/lib/dsgvo-cockpit" in text and service["StateDirectory"] == "dsgvo-cockpit"


def test_every_build_is_followed_by_the_digest_and_an_hourly_timer_is_offered():
    """The digest runs after every build, published or failed, without failing the build's unit
    when the mail server is down; the optional hourly timer starts the same build."""
    build = (DEPLOY / "dsgvo-cockpit-snapshot.service").read_text(encoding="utf-8")
    assert "ExecStopPost=-/srv/cockpit/app/.venv/bin/python -m dashboard digest" in build
    hourly = _unit("dsgvo-cockpit-snapshot-hourly.timer")["Timer"]
    assert hourly["OnCalendar"] == "hourly" and hourly["Unit"] == "dsgvo-cockpit-snapshot.service"
