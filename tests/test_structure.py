"""Architecture rules: central imports edge's kernel, never the reverse; /healthz answers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_edge_never_imports_central():
    assert "central" not in _imports("edge")


def test_central_builds_on_edge():
    assert "edge" in _imports("central")


def test_no_grab_bag_modules():
    names = {p.stem for p in (ROOT / "edge").rglob("*.py")} | {
        p.stem for p in (ROOT / "central").rglob("*.py")
    }
    assert not names & {"utils", "helpers", "common", "manager", "misc"}


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["node_id"] == "lianzhou"
    assert body["database_ok"] is True
    assert body["schema_version"] >= 1
    assert body["catalog_version"]
    assert body["version"]
    # no sync process has run in this test: no heartbeat, nothing pulled, nothing queued
    assert (body["heartbeat_ms"], body["feed_pulled_ms"], body["feed_cursor"]) == (None, None, 0)
    assert body["sms_queued"] == body["blob_upload_backlog"] == 0
