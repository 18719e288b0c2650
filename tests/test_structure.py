"""Architecture rules on the import graph (docs/architecture.md, "Import rules"); /healthz answers.

- edge never imports central;
- the kernel (edge.kernel) imports no other edge module, no replication and no central;
- replication imports only the kernel and itself: it knows no feature, page or node;
- central imports the kernel, replication and edge features' domain modules, never a feature's
  routes module, a process loop, an app, a command-line entry or the demo.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("edge", "central", "replication")

# Edge modules central may never import: pages, process loops, the app, the CLI, the demo.
NOT_FOR_CENTRAL_SUFFIXES = (".routes", ".__main__", ".loop", ".worker")
NOT_FOR_CENTRAL = {"edge.app", "edge.demo", "edge.node", "edge.worker"}


def module_name(path: Path) -> str:
    """edge/kernel/db.py -> edge.kernel.db; edge/kernel/__init__.py -> edge.kernel."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (`from a import b` counts a.b when a.b is a
    module of ours, else a)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if _is_module(candidate) else node.module)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Every module of ours and what of ours it imports."""
    return {
        module_name(path): imports_of(path)
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    }


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each forbidden import as 'importer -> imported: rule'."""
    found = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            rule = _broken_rule(module, target)
            if rule:
                found.append(f"{module} -> {target}: {rule}")
    return found


def _broken_rule(module: str, target: str) -> str | None:
    if _inside(module, "edge") and _inside(target, "central"):
        return "edge never imports central"
    # the kernel may import the edge package itself (its version string)
    if _inside(module, "edge.kernel") and not (_inside(target, "edge.kernel") or target == "edge"):
        return "the kernel imports only the kernel"
    if _inside(module, "replication") and not (
        _inside(target, "replication") or _inside(target, "edge.kernel") or target == "edge"
    ):
        return "replication imports only the kernel and itself"
    if _inside(module, "central") and _inside(target, "edge"):
        if _inside(target, "edge.kernel"):
            return None  # the kernel's own pages (sign-in) are meant for both nodes
        if target in NOT_FOR_CENTRAL or target.endswith(NOT_FOR_CENTRAL_SUFFIXES):
            return "central never imports an edge page, process loop, app, CLI or the demo"
    return None


def test_the_code_keeps_the_import_rules():
    assert violations(import_graph()) == []


@pytest.mark.parametrize(
    ("importer", "imported", "rule"),
    [
        ("edge/sms/outbox.py", "central.settings", "edge never imports central"),
        ("edge/kernel/templating.py", "edge.accounts.roles", "the kernel imports only the kernel"),
        ("edge/kernel/db.py", "replication.objectstore", "the kernel imports only the kernel"),
        ("replication/ingest.py", "edge.applications.lifecycle", "replication imports only"),
        ("replication/followers.py", "central.settings", "replication imports only"),
        ("central/officer/routes.py", "edge.review.routes", "central never imports an edge page"),
        ("central/follow.py", "edge.sync.loop", "central never imports an edge page"),
        ("central/demo.py", "edge.demo", "central never imports an edge page"),
        ("central/app.py", "edge.app", "central never imports an edge page"),
    ],
)
def test_each_forbidden_import_fails(tmp_path, importer, imported, rule):
    """A copy of the tree with one forbidden import added breaks the rules, naming it."""
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            copy = tmp_path / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / importer
    target.write_text(f"import {imported}\n" + target.read_text(encoding="utf-8"))
    graph = {
        module_name(ROOT / path.relative_to(tmp_path)): imports_of(path)
        for package in PACKAGES
        for path in sorted((tmp_path / package).rglob("*.py"))
    }
    broken = violations(graph)
    assert len(broken) == 1, broken
    assert broken[0].startswith(f"{module_name(ROOT / importer)} -> {imported}: {rule}")


def test_central_builds_on_the_kernel_and_the_transport():
    graph = import_graph()
    assert any(_inside(target, "edge.kernel") for target in graph["central.app"])
    assert any(_inside(target, "replication") for target in graph["central.follow"])


def test_no_grab_bag_modules():
    names = {p.stem for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    assert not names & {"utils", "helpers", "common", "manager", "misc"}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["node_id"] == "lianzhou"
    assert body["database_ok"] is True
    assert body["schema_version"] >= 1
    assert body["catalog_version"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert body["version"] == project["version"]  # the installed release, not a copy of it
    # no sync process has run in this test: no heartbeat, nothing pulled, nothing queued
    assert (body["heartbeat_ms"], body["feed_pulled_ms"], body["feed_cursor"]) == (None, None, 0)
    assert body["sms_queued"] == body["blob_upload_backlog"] == 0
