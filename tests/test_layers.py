"""The house's layers: a page process never imports the builder or the ingest stack, and no
lower layer imports a higher one. Checked on the source (every import, also inside functions), so a
lazy import cannot hide."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dashboard"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """The dashboard modules ``name`` imports anywhere in its source (``from a import b`` counts b when b is
    a module)."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m in MODULES}


def _reachable(roots: list[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parent = name.rpartition(".")[0]
        todo += [m for m in _imports(name) | ({parent} if parent in MODULES else set()) if m not in seen]
    return seen


def test_a_page_process_never_imports_the_builder_or_the_ingest_stack():
    pages = ["dashboard.app", "dashboard.serve"] + [m for m in MODULES if m.startswith(("dashboard.views.",
                                                                                           "dashboard.ui."))]
    loaded = _reachable(pages)
    assert "dashboard.snapshot" in loaded  # the store, which every page reads
    assert not {m for m in loaded if m.startswith(("dashboard.build", "dashboard.ingest"))}


def test_the_store_and_the_rules_import_nothing_above_them():
    for low in ("dashboard.snapshot", "dashboard.deadlines", "dashboard.schema", "dashboard.policy"):
        above = {m for m in _reachable([low]) if m.startswith(("dashboard.build", "dashboard.ingest",
                                                               "dashboard.ui", "dashboard.views"))}
        assert not above, (low, above)


def test_ingest_knows_no_snapshot():
    for name in (m for m in MODULES if m.startswith("dashboard.ingest")):
        assert not {m for m in _imports(name) if m.startswith(("dashboard.build", "dashboard.snapshot"))}, name
