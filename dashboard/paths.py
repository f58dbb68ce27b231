"""Where the project's files live.

Checked-in configuration (policy, sources) sits in the repository's ``data/``; everything generated
(demo stores, snapshots, exports, job state) goes below ``DASHBOARD_DATA_DIR`` so that tests and
deployments never touch the checkout's own data.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = PROJECT_ROOT / "queries"
DEFAULT_POLICY_FILE = PROJECT_ROOT / "data" / "policy.toml"
DEFAULT_SOURCES_FILE = PROJECT_ROOT / "data" / "sources.toml"


def data_dir() -> Path:
    """The root of generated data: ``$DASHBOARD_DATA_DIR`` or the checkout's ``data/``."""
    return Path(os.environ.get("DASHBOARD_DATA_DIR") or PROJECT_ROOT / "data").resolve()


def snapshots_dir() -> Path:
    return data_dir() / "snapshots"


def demo_dir() -> Path:
    return data_dir() / "demo"


def sources_file() -> Path:
    """The sources config: ``$DASHBOARD_SOURCES`` or the checked-in demo default."""
    return Path(os.environ.get("DASHBOARD_SOURCES") or DEFAULT_SOURCES_FILE)
