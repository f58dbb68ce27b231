""""Datenstand aktualisieren": a snapshot build started from the app, run as a background job.

The job runs the same ``build_snapshot`` as the CLI and the nightly timer (deploy/), so a build from
the app publishes, fails and keeps the previous snapshot exactly like theirs. Its result (the rows
read, accepted and rejected per table, and which tables were copied unchanged from the live snapshot) is
written as a small JSON file (counts only, no personal data) that the sidebar shows when the job
has finished.
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboard import snapshot


def run(job, store, progress) -> tuple[Path, int]:
    result = snapshot.build_snapshot(progress=progress)
    target = store.output_path(job, "datenstand.json")
    target.write_text(json.dumps({"snapshot": result.path.name, "seconds": round(result.seconds, 1),
                                  "tables": result.tables, "unchanged": list(result.reused)}), encoding="utf-8")
    return target, sum(read for read, _, _ in result.tables.values())


def summary(job) -> dict | None:
    """The finished build's counts, or None when its file is gone (expired)."""
    try:
        return json.loads(job.path.read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError):
        return None
