"""Shared fixtures: a demo snapshot built once per session, a PostgreSQL, demo sign-in; builders: tests/helpers.py."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from dashboard.build import build_snapshot
from dashboard.demo import generate
from tests.helpers import AS_OF

# The audit trail's key and anchors live outside DATA_DIR (dashboard.audit): never the tester's own
# ~/.config. Set at import, so servers and CLIs the tests start inherit it.
os.environ.setdefault("DASHBOARD_AUDIT_DIR", tempfile.mkdtemp(prefix="cockpit-audit-"))


def pytest_collection_modifyitems(config, items):
    """Markers by where a test lives and what it uses, so ``-m e2e`` / ``-m "not e2e"`` select them
    (a ``pytestmark`` in a conftest.py applies to nothing)."""
    for item in items:
        path = str(item.path)
        if f"{Path('tests', 'e2e')}" in path:
            item.add_marker(pytest.mark.e2e)
        if "postgres" in item.path.name or "pg_dsn" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if item.path.name == "test_wheel.py":
            item.add_marker(pytest.mark.wheel)


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory) -> Path:
    """A data dir with the small demo stores (as of 2026-11-26) and a published snapshot."""
    base = tmp_path_factory.mktemp("demo-data")
    generate(base / "demo", seed=42, as_of=AS_OF, scale="small")
    build_snapshot(data_dir=base)
    return base


@pytest.fixture(scope="session")
def pg_dsn():
    """One throw-away PostgreSQL (or TEST_PG_DSN) for every test that reads from PostgreSQL."""
    from tests.pg import postgres_dsn

    with postgres_dsn() as dsn:
        yield dsn


@pytest.fixture(autouse=True)
def demo_auth(monkeypatch):
    """App tests run in demo mode (as the DPO) unless a test signs in another way."""
    monkeypatch.setenv("DASHBOARD_AUTH", "demo")
    monkeypatch.delenv("DASHBOARD_DEMO_ROLE", raising=False)


@pytest.fixture
def use_data_dir(monkeypatch):
    """Point DASHBOARD_DATA_DIR at a folder for one test."""

    def use(path: Path) -> Path:
        monkeypatch.setenv("DASHBOARD_DATA_DIR", str(path))
        return path

    return use
