"""Where the project's files live.

Checked-in configuration (policy, sources, Art. 15 text) sits in the repository's ``data/`` and the
named SQL in ``queries/``; both are installed as the data packages ``dashboard.defaults`` and
``dashboard.sql`` (pyproject.toml), read through importlib.resources: an editable install maps them to
the checkout's folders, a wheel ships them inside the package.
Everything generated (demo stores, snapshots, exports, job state) goes below ``DASHBOARD_DATA_DIR``
so that tests and deployments never touch the checkout's own data.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _resources(package: str) -> Path:
    """The folder of a data package: ``dashboard.sql`` (the checkout's ``queries/``) and
    ``dashboard.defaults`` (``data/``), as the installation maps them: the checkout's folders in an
    editable install, the copies inside the package in a wheel. One way to read them, no guessing."""
    return Path(str(importlib.resources.files(package)))


QUERIES_DIR = _resources("dashboard.sql")
DEFAULTS_DIR = _resources("dashboard.defaults")
DEFAULT_POLICY_FILE = DEFAULTS_DIR / "policy.toml"
DEFAULT_SOURCES_FILE = DEFAULTS_DIR / "sources.toml"
DEFAULT_ART15_FILE = DEFAULTS_DIR / "art15.toml"
# An editable install reads the checkout's data/, where generated files may go too; a wheel's
# site-packages is no place for them.
_CHECKOUT_DATA = DEFAULTS_DIR if DEFAULTS_DIR == PROJECT_ROOT / "data" else None


def data_dir() -> Path:
    """The root of generated data: ``$DASHBOARD_DATA_DIR``, else the checkout's ``data/``; an installed
    package has no default (its site-packages is no place for personal data)."""
    chosen = os.environ.get("DASHBOARD_DATA_DIR") or _CHECKOUT_DATA
    if chosen is None:
        from dashboard.errors import DashboardError

        raise DashboardError("DASHBOARD_DATA_DIR is not set: name the folder for snapshots, state and exports")
    return Path(chosen).resolve()


def policy_file() -> Path:
    """The retention policy: ``$DASHBOARD_POLICY`` or the shipped ``data/policy.toml``."""
    return Path(os.environ.get("DASHBOARD_POLICY") or DEFAULT_POLICY_FILE)


def art15_file() -> Path:
    """The Art. 15(1) information of subject access packages: ``$DASHBOARD_ART15`` or ``data/art15.toml``."""
    return Path(os.environ.get("DASHBOARD_ART15") or DEFAULT_ART15_FILE)


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
