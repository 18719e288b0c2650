"""Litestream with the embedded file replica: replicate, lose the node, restore, carry on."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from central.settings import CentralSettings
from edge.app import create_app
from edge.audit.verify import verify_chain
from edge.demo import load_demo_applications
from edge.kernel.clock import system_clock
from edge.kernel.db import Database, connect_sync
from edge.schema import MIGRATIONS_DIR
from edge.settings import Settings, SettingsError
from replication.blob_upload import upload_pass
from replication.litestream import child_environ, config, replicate_once
from replication.objectstore import blob_key
from replication.store_config import StoreSettings
from tests.conftest import prepare

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("accounts", "applications", "steps", "attachments", "seals", "audit_log", "sms_outbox")


def _fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return {
            table: (
                len(found := conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()),
                hashlib.sha256(repr(found).encode()).hexdigest(),
            )
            for table in TABLES
        }


async def _with_applications(settings: Settings) -> None:
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            await load_demo_applications(conn, settings, system_clock())
    finally:
        await db.close()


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "CUNBAN_NODE_ID": settings.node_id,
        "CUNBAN_TOWNSHIP_CODE": settings.township_code,
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "CUNBAN_REPLICA_DIR": str(settings.replica.replica_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "edge", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _node_with_applications(tmp_path: Path) -> Settings:
    settings = Settings(
        node_id="lianzhou",
        township_code="450521100000",
        data_dir=tmp_path / "edge",
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )
    asyncio.run(prepare(settings))
    asyncio.run(_with_applications(settings))
    return settings


def test_disaster_recovery_drill(tmp_path):
    settings = _node_with_applications(tmp_path)
    before = _fingerprint(settings.database_path)
    assert before["applications"][0] > 0
    replicate_once(settings.replicated_node)  # real Litestream, file replica
    assert settings.replicated_node.replica_path.exists()

    refused = _cli(settings, "restore")
    assert refused.returncode == 2 and "exists" in refused.stderr

    for suffix in ("", "-wal", "-shm"):  # the node's disk dies
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    restored = _cli(settings, "restore")
    assert restored.returncode == 0, restored.stderr
    assert "integrity check passed" in restored.stdout
    assert _fingerprint(settings.database_path) == before
    conn = connect_sync(settings.database_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert verify_chain(conn) == []
    finally:
        conn.close()

    with TestClient(create_app(settings), base_url="https://testserver") as client:
        health = client.get("/healthz").json()  # the node carries on with its data
        assert health["database_ok"] and health["schema_version"] == len(
            list(MIGRATIONS_DIR.glob("*.sql"))
        )
        assert "办事指南" in client.get("/services").text


def test_restore_names_each_application_whose_photos_never_reached_the_store(tmp_path):
    settings = _node_with_applications(tmp_path)
    while upload_pass(settings.replicated_node, system_clock()).sent:
        pass
    with sqlite3.connect(settings.database_path) as conn:
        uses = conn.execute(
            "SELECT tracking_code, material_key, sha256, thumb_sha256 FROM attachments "
            "JOIN applications ON applications.id = application_id ORDER BY tracking_code, "
            "material_key"
        ).fetchall()
    by_code: dict[str, list[tuple[str, str, str]]] = {}
    for owner, key, photo, thumb in uses:
        by_code.setdefault(owner, []).append((key, photo, thumb))
    # the first application (by tracking code, which is random) with two photos or more
    code, photos = next((c, found) for c, found in sorted(by_code.items()) if len(found) >= 2)
    gone = {photo for _, photo, _ in photos} | {thumb for _, _, thumb in photos[:-1]}
    for sha256 in gone:  # never uploaded: all but the last photo's thumbnail
        (settings.replica.replica_dir / blob_key("lianzhou", sha256)).unlink()
    replicate_once(settings.replicated_node)
    shutil.rmtree(settings.data_dir)  # the node's disk dies

    restored = _cli(settings, "restore")
    assert restored.returncode == 0, restored.stderr
    assert f"{len(gone)} recorded blobs not in the store" in restored.stdout
    names = [f"{key}, {key} (thumbnail)" for key, _, _ in photos[:-1]]
    lines = restored.stdout.splitlines()
    assert f"  {code}: {', '.join([*names, photos[-1][0]])}" in lines
    lacking = {owner for owner, _, photo, thumb in uses if {photo, thumb} & gone}  # demo photos
    # are shared between applications: every one using a lost file is named, and only those
    assert {line.split(":")[0].strip() for line in lines if line.startswith("  ")} == lacking


def test_litestream_runs_without_the_ca_bundle_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    assert "AWS_CA_BUNDLE" not in child_environ()
    settings = Settings(node_id="fucheng", township_code="450503101000", data_dir=tmp_path)
    replica = config(settings.replicated_node)["dbs"][0]["replica"]  # type: ignore[index]
    assert replica["type"] == "file"
    assert replica["path"].endswith("nodes/fucheng/edge.db")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"STORE": "ftp"}, "{p}STORE must be file or s3"),
        (
            {"STORE": "s3"},
            "{p}S3_ENDPOINT, {p}S3_BUCKET and {p}S3_ACCESS_KEY are required for the s3 store",
        ),
        (
            {"STORE": "s3", "S3_ENDPOINT": "store:8333", "S3_ACCESS_KEY": "k"},
            "{p}S3_ENDPOINT must start with http(s)://",
        ),
    ],
)
def test_each_node_refuses_an_unusable_store_naming_its_own_variable(environ, message):
    edge = {"CUNBAN_NODE_ID": "lianzhou", "CUNBAN_TOWNSHIP_CODE": "450521100000"}
    with pytest.raises(SettingsError) as refused:
        Settings.from_environ(edge | {f"CUNBAN_{k}": v for k, v in environ.items()})
    assert str(refused.value) == message.format(p="CUNBAN_")
    with pytest.raises(SettingsError) as refused:
        CentralSettings.from_environ({f"CUNBAN_CENTRAL_{k}": v for k, v in environ.items()})
    assert str(refused.value) == message.format(p="CUNBAN_CENTRAL_")


def test_the_store_both_nodes_name_is_one_config():
    store = {"STORE": "s3", "S3_ENDPOINT": "http://127.0.0.1:8333", "S3_ACCESS_KEY": "k"}
    edge = Settings.from_environ(
        {"CUNBAN_NODE_ID": "lianzhou", "CUNBAN_TOWNSHIP_CODE": "450521100000"}
        | {f"CUNBAN_{k}": v for k, v in store.items()}
    )
    central = CentralSettings.from_environ({f"CUNBAN_CENTRAL_{k}": v for k, v in store.items()})
    assert edge.store_config == central.store_config
    assert edge.replicated_node.store == edge.store_config
    assert (edge.store_config.kind, edge.store_config.bucket) == ("s3", "cunban")
