"""A full or read-only disk, for real: the node runs on a small tmpfs mounted in its own user and
mount namespace (`unshare -Urm`, no root needed where user namespaces are allowed), and the test
fills that file system through /proc/<pid>/root. A full disk answers 507 with nothing half
written and /healthz says so; start-up on a full or read-only disk says "cannot start" and exits
2 (issue 11, findings 4 and 6)."""

from __future__ import annotations

import asyncio
import hashlib
import shlex
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from edge.accounts.demo_people import DEMO_PASSWORD
from edge.app import create_app
from edge.settings import Settings
from tests.cluster import ROOT, free_port
from tests.conftest import AGENT_QIANJIANG, LIANZHOU, prepare
from tests.intake_support import ITEMS, intake_data, photo
from tests.small_disk_support import (
    SmallDiskNode,
    fill,
    needs_unshare,
    node_environ,
    on_small_disk,
)

CODE = "CW-004"
JSON = {"Accept": "application/json"}


def _agent(client: httpx2.Client) -> str:
    """Sign the agent in on `client`; the CSRF token of the session."""
    client.get("/login")
    form = {"phone": AGENT_QIANJIANG, "password": DEMO_PASSWORD, "next": ""}
    assert client.post("/login", data=form).status_code == 303
    return client.get("/agent/outbox/session", headers=JSON).json()["csrf"]


def _put(client: httpx2.Client, data: bytes, csrf: str) -> httpx2.Response:
    sha256 = hashlib.sha256(data).hexdigest()
    headers = {**JSON, "Content-Type": "image/jpeg", "X-CSRF-Token": csrf}
    return client.put(f"/agent/outbox/photos/{sha256}", content=data, headers=headers)


def _post(client: httpx2.Client, csrf: str, key: str, tokens: dict[str, str]) -> httpx2.Response:
    data = intake_data(CODE, name="覃满盘") | {"csrf_token": csrf, "idempotency_key": key}
    data |= {f"kept_{material}": token for material, token in tokens.items()}
    return client.post(f"/agent/apply/{CODE}", data=data, headers=JSON)


def _leftovers(blobs: Path) -> list[Path]:
    return [p for p in blobs.rglob("*") if p.name.startswith(".tmp-")]


def test_a_full_disk_answers_507_writes_nothing_and_healthz_says_so(small_disk_node: SmallDiskNode):
    node = small_disk_node
    with httpx2.Client(base_url=node.url, timeout=30) as client:
        csrf = _agent(client)
        keys = [m["key"] for m in ITEMS[CODE]["materials"]] + ["signature"]
        tokens = {
            k: _put(client, photo((n * 60, 80, 200)), csrf).json()["token"]
            for n, k in enumerate(keys)
        }
        staged = len(node.rows("SELECT sha256 FROM staged_photos"))
        filler = fill(node.data)

        health = httpx2.get(f"{node.url}/healthz", timeout=10)
        assert health.status_code == 503
        body = health.json()
        assert body["ok"] is False and body["storage_ok"] is False and body["writable"] is False
        assert body["write_error"] == "No space left on device" and body["free_bytes"] < 4096
        assert body["database_ok"] is True  # it still reads

        new_photo = _put(client, photo((5, 200, 5)), csrf)
        assert new_photo.status_code == 507, new_photo.text
        assert "存储空间已满" in new_photo.json()["error"] and new_photo.headers["retry-after"]
        key = "5a0c1d2e-0000-4000-8000-000000000507"
        intake = _post(client, csrf, key, tokens)
        assert intake.status_code == 507, intake.text
        english = client.put(
            f"/agent/outbox/photos/{hashlib.sha256(photo((6, 6, 6))).hexdigest()}?lang=en",
            content=photo((6, 6, 6)),
            headers={**JSON, "Content-Type": "image/jpeg", "X-CSRF-Token": csrf},
        )
        assert english.status_code == 507 and "storage is full" in english.json()["error"]

        assert _leftovers(node.data / "blobs") == []  # no half-written photo
        assert len(node.rows("SELECT sha256 FROM staged_photos")) == staged
        assert node.rows("SELECT id FROM applications WHERE applicant_name = '覃满盘'") == []
        assert node.rows("SELECT key FROM idempotency_keys WHERE key = ?", key) == []

        filler.unlink()  # the administrator frees space; the app's retries now go through
        assert httpx2.get(f"{node.url}/healthz", timeout=10).status_code == 200
        assert _put(client, photo((5, 200, 5)), csrf).status_code == 200
        retried = _post(client, csrf, key, tokens)
        assert retried.status_code == 200, retried.text
        assert len(node.rows("SELECT id FROM applications WHERE applicant_name = '覃满盘'")) == 1


def _start(tmp_path: Path, before_serve: str) -> subprocess.CompletedProcess[str]:
    needs_unshare()
    data = tmp_path / "edge"
    data.mkdir()
    folder = shlex.quote(str(data))
    serve = (
        f"{before_serve.format(folder=folder)}; exec {shlex.quote(sys.executable)} -m edge serve"
    )
    argv = on_small_disk(data, serve)
    environ = node_environ(data, free_port())
    try:
        return subprocess.run(
            argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the node started (and served) on a disk it cannot write")


def test_start_up_on_a_full_disk_says_cannot_start_and_exits_2(tmp_path: Path):
    result = _start(tmp_path, "cat /dev/zero > {folder}/filler 2>/dev/null")
    assert result.returncode == 2, result.stderr
    assert (
        f"cannot start: cannot write in {tmp_path / 'edge'}: No space left on device"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_start_up_on_a_read_only_disk_says_cannot_start_and_exits_2(tmp_path: Path):
    result = _start(tmp_path, "mount -o remount,ro {folder}")
    assert result.returncode == 2, result.stderr
    assert (
        f"cannot start: cannot write in {tmp_path / 'edge'}: Read-only file system" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_healthz_reports_free_space_and_is_not_ok_below_the_minimum(tmp_path: Path):
    roomy = Settings(node_id="lianzhou", township_code=LIANZHOU, data_dir=tmp_path / "edge")
    asyncio.run(prepare(roomy))
    with TestClient(create_app(roomy), base_url="https://testserver") as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        free = shutil.disk_usage(tmp_path).free
        assert abs(body["free_bytes"] - free) < 64 * 1024 * 1024
        assert body["min_free_bytes"] == 200 * 1024 * 1024
        assert (body["writable"], body["write_error"], body["storage_ok"], body["ok"]) == (
            True,
            None,
            True,
            True,
        )
    wanting = replace(roomy, web=replace(roomy.web, min_free_mb=free // 1024 // 1024 + 1024))
    with TestClient(create_app(wanting), base_url="https://testserver") as client:
        health = client.get("/healthz")
        assert health.status_code == 503
        body = health.json()
        assert body["writable"] is True and body["database_ok"] is True
        assert body["storage_ok"] is False and body["ok"] is False
        assert list(tmp_path.glob("edge/.write-probe-*")) == []  # the probe leaves nothing
