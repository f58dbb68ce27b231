"""Proxy mode through the real reverse proxies, configured exactly as docs/DEPLOY.md shows.

The nginx and Caddy blocks are read from DEPLOY.md; only what cannot run here is replaced (ports, TLS,
the host name, the include's path). A stand-in for oauth2-proxy signs everybody in as the management
user; the upstream records the headers the app would receive, and ``access.identity_from_headers`` (what
the app runs on them) decides. A client that forges the DPO's e-mail, groups or the secret gets nowhere,
and neither does a process that connects to the app's port directly.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboard import access

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
SECRET = "proxy-test-secret-0123456789abcdef"
SIGNED_IN = "chef@aelvirionek.example"  # whom the stand-in for oauth2-proxy signs in
FORGED = {"X-Auth-Request-Email": "dsb@aelvirionek.example", "X-Auth-Request-Groups": "dsgvo-dsb",
          "X-Cockpit-Proxy-Secret": "guessed-secret-guessed-secret-0"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _block(language: str) -> str:
    """The one fenced block of ``language`` in DEPLOY.md's proxy-mode section."""
    section = DEPLOY[DEPLOY.index("## 7. Proxy-header mode"):DEPLOY.index("## 8.")]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, f"DEPLOY.md section 7 should hold one {language} block"
    return blocks[0]


class _Recorder(http.server.BaseHTTPRequestHandler):
    """oauth2-proxy's auth endpoint (202 with the signed-in user) and the app's port (records headers)."""

    seen: list[dict[str, list[str]]] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.startswith("/oauth2/auth"):
            self.send_response(202)
            self.send_header("X-Auth-Request-Email", SIGNED_IN)  # and no groups
        else:
            headers: dict[str, list[str]] = {}
            for name, value in self.headers.items():
                headers.setdefault(name.lower(), []).append(value)
            type(self).seen.append(headers)
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def _server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


class _Seen(dict):
    """The headers one upstream request carried, as Streamlit hands them to the app."""

    def get_all(self, name):
        return self.get(name.lower(), [])

    def items(self):
        return [(k, v) for k, values in super().items() for v in values]


def _get(port: int, headers: dict[str, str]) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode(errors="replace")[-2000:])
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the proxy did not start")


@contextmanager
def _running(command: list[str], port: int, env: dict | None = None):
    """The proxy started, listening on ``port``, stopped afterwards."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, proc)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _identity(seen: dict[str, list[str]]) -> access.Identity:
    settings = access.ProxySettings(secret=SECRET, groups_header="X-Auth-Request-Groups")
    return access.identity_from_headers(_Seen(seen), settings)


def _check_through(proxy_port: int, app_port: int) -> None:
    """Through the proxy: the proxy's identity and secret arrive, never the client's forgeries; straight
    to the app's port: refused."""
    mapping = access.load_role_map(ROOT / "data" / "roles.example.toml")
    _Recorder.seen.clear()
    for headers in ({}, FORGED, {"X-Auth-Request-Email": "dsb@aelvirionek.example"}):
        assert _get(proxy_port, headers) == 200
    assert len(_Recorder.seen) == 3
    for seen in _Recorder.seen:
        assert seen["x-auth-request-email"] == [SIGNED_IN]
        assert seen["x-cockpit-proxy-secret"] == [SECRET]
        assert "x-auth-request-groups" not in seen, seen["x-auth-request-groups"]  # the forged groups never pass
        identity = _identity(seen)
        assert (identity.email, identity.groups) == (SIGNED_IN, ())
        with pytest.raises(access.AccessDenied, match="no role"):  # had the forged groups passed: the DPO
            access.role_for(identity, mapping)
    forged = access.Identity(SIGNED_IN, ("dsgvo-dsb",), "proxy")
    assert access.role_for(forged, mapping) == "dpo"  # what the forgery was after (groups decide for the company)
    _Recorder.seen.clear()
    assert _get(app_port, FORGED) == 200  # a process on the host reaching the app directly ...
    with pytest.raises(access.AccessDenied, match="sign-in proxy"):  # ... is refused by the app
        _identity(_Recorder.seen[0])


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="Debian's nginx not installed (make test installs it when run as root)")
def test_documented_nginx_configuration_lets_no_client_claim_an_identity(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with _server() as auth_port, _server() as app_port:
        port = _free_port()
        block = _block("nginx")
        block = re.sub(r"\n\s*ssl_certificate[^\n]*", "", block)
        block = block.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
        block = block.replace("127.0.0.1:4180", f"127.0.0.1:{auth_port}")
        block = block.replace("127.0.0.1:8501", f"127.0.0.1:{app_port}")
        secret_conf = tmp_path / "cockpit-proxy-secret.conf"
        secret_conf.write_text(f'proxy_set_header X-Cockpit-Proxy-Secret "{SECRET}";\n', encoding="utf-8")
        block = block.replace("/etc/nginx/cockpit-proxy-secret.conf", str(secret_conf))
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            f"daemon off;\nworker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
            f"events {{ worker_connections 64; }}\n"
            f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
            f"{block}\n}}\n", encoding="utf-8")
        with _running([nginx, "-c", str(conf), "-p", str(tmp_path)], port):
            _check_through(port, app_port)


@pytest.mark.skipif(shutil.which("caddy") is None,
                    reason="Debian's caddy not installed (make test installs it when run as root)")
def test_documented_caddy_configuration_lets_no_client_claim_an_identity(tmp_path):
    with _server() as auth_port, _server() as app_port:
        port = _free_port()
        block = _block("caddy")
        block = block.replace("dsgvo.aelvirionek.example {", f"http://127.0.0.1:{port} {{", 1)
        block = block.replace("127.0.0.1:4180", f"127.0.0.1:{auth_port}")
        block = block.replace("127.0.0.1:8501", f"127.0.0.1:{app_port}")
        caddyfile = tmp_path / "Caddyfile"
        caddyfile.write_text("{\n admin off\n auto_https off\n}\n" + block, encoding="utf-8")
        env = {**os.environ, "DASHBOARD_PROXY_SECRET": SECRET, "HOME": str(tmp_path),
               "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
        with _running(["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"], port, env):
            _check_through(port, app_port)
