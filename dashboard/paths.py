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


# Files with personal data (snapshots, exports, job store, KPI history) are the owner's alone,
# whatever the umask of the process that writes them.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Make an existing file 0600 (SQLite creates its -wal/-shm files with the database's mode)."""
    os.chmod(path, PRIVATE_FILE)
    return path


def private_umask() -> None:
    """For the app and the CLI: files a library creates on its own (DuckDB, SQLite, xlsxwriter) start private."""
    os.umask(0o077)
