"""A real Streamlit server on a free port and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.pages import IDS, url_path

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic"]
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
# Every page's URL path, in navigation order; the overview is the default page, served at the root.
URL_PAGES = [url_path(page) for page in IDS]



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(data_dir: Path, port: int | None = None, args: tuple[str, ...] = (), **env: str) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 over ``data_dir`` (demo sign-in unless ``env`` says otherwise);
    ``args`` are more Streamlit options (e.g. a secrets file)."""
    port = port or free_port()
    full_env = {**os.environ, "DASHBOARD_DATA_DIR": str(data_dir), "DASHBOARD_AUTH": "demo", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve",  # as make run and the systemd unit start it
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            proc.kill()
            raise RuntimeError("streamlit did not start: " + proc.stderr.read().decode(errors="replace")[-2000:])
        served = Served(url)
        served.pid = proc.pid
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a stuck server must not keep the test run waiting
            proc.kill()
            proc.wait()


class Served(str):
    """The app's URL, which also knows the server's process id."""

    pid: int


def server_pid(url: str) -> int:
    return url.pid


@pytest.fixture(scope="session")
def server(demo_data_dir):
    with serve(demo_data_dir) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="de-DE")
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(page) -> None:
    """Streamlit finished running the script and painted its elements: the app says it is not running
    on three polls in a row (a rerun that a click queues starts well within them). State, not a fixed
    sleep; the count starts afresh for every wait."""
    page.evaluate("window.__idlePolls = 0")
    page.wait_for_function(f"""() => {{
        const idle = !!document.querySelector('{IDLE}');
        window.__idlePolls = idle ? (window.__idlePolls || 0) + 1 : 0;
        return window.__idlePolls >= 3;
    }}""", timeout=30_000, polling=100)
