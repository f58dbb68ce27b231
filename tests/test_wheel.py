"""The package ships what it reads: a wheel installed into a fresh virtual environment builds a
snapshot and reports it from another working directory, with no checkout in reach.

The fresh environment gets the wheel's own files; its third-party dependencies are borrowed from
the project's environment (a .pth line) so the test needs no downloads beyond the build backend.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys

import pytest

from dashboard import paths


@pytest.mark.timeout(600)
def test_wheel_in_a_fresh_venv_builds_and_reports_a_snapshot(tmp_path):
    run = dict(check=True, capture_output=True, text=True, timeout=300)
    # The build backend from the test extras (setuptools), not a fresh download per run.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(paths.PROJECT_ROOT)], **run)
    wheel = next((tmp_path / "dist").glob("*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], **run)
    python = venv / "bin" / "python"
    fresh_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                **run).stdout.strip()
    # Dependencies from the project's environment (after the venv's own site-packages: the wheel wins).
    (tmp_path / fresh_site / "zz_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   **run)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DASHBOARD_", "PYTHON"))}
    env["DASHBOARD_DATA_DIR"] = str(tmp_path / "data")
    cli = str(venv / "bin" / "gdpr-dashboard")
    where = subprocess.run([str(python), "-c", "import dashboard.paths as p; print(p.QUERIES_DIR)"],
                           cwd=elsewhere, env=env, **run).stdout.strip()
    assert where.startswith(str(venv)) and where.endswith("dashboard/sql")  # not the checkout's queries/
    subprocess.run([cli, "demo"], cwd=elsewhere, env=env, **run)
    built = subprocess.run([cli, "snapshot"], cwd=elsewhere, env=env, **run)
    assert "published snapshot-" in built.stdout
    status = subprocess.run([cli, "status"], cwd=elsewhere, env=env, **run)
    assert "live snapshot: snapshot-" in status.stdout
    # Without a data folder an installed package refuses plainly instead of writing into site-packages.
    refused = subprocess.run([cli, "status"], cwd=elsewhere, env={k: v for k, v in env.items()
                                                                  if k != "DASHBOARD_DATA_DIR"},
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "DASHBOARD_DATA_DIR is not set" in refused.stderr
