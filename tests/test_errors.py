"""Every error type the project defines is a DashboardError: the app's error boundary and the
command line explain it in one line with its catalogue label, instead of an incident id."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dashboard"


def test_every_error_type_is_a_dashboard_error():
    defined = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                if any(b.endswith(("Error", "Exception")) or b in ("Exception", "BaseException") for b in bases):
                    defined[f"{path.relative_to(PACKAGE)}:{node.name}"] = bases
    outside = {name: bases for name, bases in defined.items()
               if not name.endswith(":DashboardError") and "DashboardError" not in bases}
    assert len(defined) >= 10 and not outside, outside
