""""Datenstand aktualisieren": a snapshot build started from the app, run as a background job.

The job runs the same command as the nightly timer (deploy/), ``python -m dashboard snapshot``, in a
child process: the server never holds a build's memory, a failed or crashed build cannot take it down,
and the server never imports the builder. The child reports its progress on stdout (``progress N``
lines) and writes its result (the rows read, accepted and rejected per table, and which tables were
copied unchanged from the live snapshot) as a small JSON file (counts only, no personal data) that the
sidebar shows when the job has finished. A failed build's job says the child's one-line error.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from dashboard.errors import DashboardError

PROGRESS = "progress "
CRASH = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt))\b")


class RefreshError(DashboardError, RuntimeError):
    """The build in the child process failed; the message is its own one-line error."""

    label = "errors.build"


def run(job, store, progress) -> tuple[Path, int]:
    target = store.output_path(job, "datenstand.json")
    command = [sys.executable, "-m", "dashboard", "snapshot", "--report", str(target)]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as errors:  # the build's log: never blocks a pipe
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8") as child:
            for line in child.stdout:
                if line.startswith(PROGRESS):
                    progress(int(line[len(PROGRESS):]))
        if child.returncode != 0:
            errors.seek(0)
            log = errors.read().splitlines()
            said = [line.removeprefix("error: ").strip() for line in log if line.startswith("error: ")]
            # A crash prints a traceback: its exception type only (a message may quote a source value).
            crashed = [m.group(1) for m in map(CRASH.match, log) if m]
            raise RefreshError(said[-1] if said else f"the build stopped (exit status {child.returncode}"
                                                     f"{': ' + crashed[-1] if crashed else ''})")
    result = json.loads(target.read_text(encoding="utf-8"))
    return target, sum(read for read, _, _ in result["tables"].values())


def report(path: Path, result) -> None:
    """The child's side: write the finished build's result for the job (``run`` above reads it)."""
    path.write_text(json.dumps({"snapshot": result.path.name, "seconds": round(result.seconds, 1),
                                "tables": result.tables, "unchanged": list(result.reused),
                                "nothing_changed": result.unchanged}), encoding="utf-8")


def summary(job) -> dict | None:
    """The finished build's counts, or None when its file is gone (expired)."""
    try:
        return json.loads(job.path.read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError):
        return None
