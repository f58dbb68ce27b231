"""The command line on a full and on a read-only disk: one line saying what and where, no
traceback. The data directory is a real tmpfs, filled up, then remounted read-only (needs root and
CAP_SYS_ADMIN, as this project's machines and CI have; skipped elsewhere)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "demo": ["demo", "--as-of", "2026-11-26"],
    "snapshot": ["snapshot", "--full"],
    "export": ["export", "audit_csv", "--user", "dsb", "--role", "dpo"],
    "sweep-exports": ["sweep-exports"],
    "kpi-backfill": ["kpi-backfill"],
}


def _mount(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


def _cli(data_dir: Path, args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**env, "DASHBOARD_DATA_DIR": str(data_dir)}, timeout=300)


@pytest.fixture(scope="module")
def disk(tmp_path_factory, demo_data_dir):
    """A 64 MB tmpfs holding the demo stores, a snapshot, a job store and the KPI history."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    folder = tmp_path_factory.mktemp("disk") / "data"
    if not _mount(folder, "size=64m,mode=0700"):
        pytest.skip("mounting a tmpfs is not permitted here")
    env = {**os.environ, "DASHBOARD_AUDIT_DIR": str(folder.parent / "audit"), "DASHBOARD_AUTH": "demo"}
    try:
        shutil.copytree(demo_data_dir / "demo", folder / "demo")
        for args in (["snapshot"], ["kpi-backfill"], COMMANDS["export"]):
            assert _cli(folder, args, env).returncode == 0
        yield folder, env
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _one_line(result: subprocess.CompletedProcess, what: tuple[str, ...]) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-1500:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and any(w in last for w in what), last


@pytest.mark.parametrize("command", COMMANDS)
def test_every_writing_command_says_full_disk_in_one_line(disk, command):
    folder, env = disk
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)  # take every free byte, unbuffered
    try:
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"\0" * (1 << 20))
    finally:
        os.close(fd)
    try:
        _one_line(_cli(folder, COMMANDS[command], env), ("No space left", "disk is full", "disk I/O error"))
    finally:
        filler.unlink()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_writing_command_says_read_only_in_one_line(disk, command):
    folder, env = disk
    assert subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True).returncode == 0
    try:
        _one_line(_cli(folder, COMMANDS[command], env), ("Read-only file system", "readonly database"))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(folder)], capture_output=True)
