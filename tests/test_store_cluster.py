"""The store as a real SeaweedFS cluster on loopback: a master placing every volume twice
(`001`), three volume servers and a filer with the S3 gateway. An edge replicates to it, one
volume server is killed, and the edge is restored from the two left. Nothing is mocked."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.kernel.clock import system_clock
from edge.settings import Settings
from replication.blob_upload import upload_pass
from replication.litestream import replicate_once
from replication.store import (
    GRPC_OFFSET,
    create_bucket,
    filer_command,
    identities,
    master_command,
    volume_command,
)
from replication.store_config import StoreSettings
from tests.cluster import PYTHON, ROOT, free_port_with_grpc, wait_for, wait_for_port
from tests.conftest import prepare
from tests.test_replication import _with_applications

TABLES = ("applications", "steps", "attachments", "blobs", "audit_log", "accounts")
SECRET = "lianzhou-cluster-secret"


class Store:
    """The cluster's processes, each logging to root/logs/<name>.log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        ports: set[int] = set()
        while len(ports) < 6:  # master, 3 volume servers, filer, S3; their gRPC ports apart
            port = free_port_with_grpc()
            if not {port, port + GRPC_OFFSET} & {p + d for p in ports for d in (0, GRPC_OFFSET)}:
                ports.add(port)
        self.master, *self.volumes, self.filer, self.s3 = sorted(ports)

    def spawn(self, name: str, argv: list[str]) -> None:
        """Start one server."""
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{name}.log").open("ab") as out:
            self.processes[name] = subprocess.Popen(
                argv, cwd=self.root, stdout=out, stderr=subprocess.STDOUT
            )

    def volume_status(self) -> dict[str, list[dict[str, object]]]:
        """The master's view: each volume server's volumes (id, size, replication)."""
        url = f"http://127.0.0.1:{self.master}/vol/status"
        with urllib.request.urlopen(url, timeout=10) as answer:
            found = json.load(answer)["Volumes"]["DataCenters"]
        return {
            server: volumes or []
            for racks in found.values()
            for servers in racks.values()
            for server, volumes in servers.items()
        }

    def stop(self) -> None:
        """SIGTERM every server still running, the filer first; SIGKILL laggards (a test store)."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 5
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """1 master (`-defaultReplication=001`), 3 volume servers, 1 filer with S3; bucket made."""
    running = Store(tmp_path / "store")
    try:
        config = running.root / "s3.json"
        running.root.mkdir(parents=True)
        entries = ["central=central:central-secret", f"lianzhou=lianzhou:{SECRET}"]
        config.write_text(json.dumps(identities(entries)), encoding="utf-8")
        running.spawn("master", master_command(running.root / "master", running.master, "001", 64))
        wait_for_port(running.master, 60)
        for number, port in enumerate(running.volumes):
            folder = running.root / f"volume{number}"
            folder.mkdir()
            running.spawn(f"volume{number}", volume_command(folder, port, running.master))
        wait_for(lambda: len(running.volume_status()) == 3, 60, "3 volume servers registered")
        filer = filer_command(
            running.root / "filer", running.filer, running.s3, running.master, config
        )
        (running.root / "filer").mkdir()
        running.spawn("filer", filer)
        wait_for_port(running.s3, 60)
        create_bucket(running.master, running.filer)
        yield running
    finally:
        running.stop()


def _settings(data_dir: Path, store: Store) -> Settings:
    replica = StoreSettings(
        store="s3",
        s3_endpoint=f"http://127.0.0.1:{store.s3}",
        s3_access_key="lianzhou",
        s3_secret_key=SECRET,
    )
    return Settings(
        node_id="lianzhou", township_code="450521100000", data_dir=data_dir, replica=replica
    )


def _rows(path: Path) -> dict[str, tuple[int, str]]:
    """Each table's row count and a hash of its rows in order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: (
                len(found := conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()),
                hashlib.sha256(repr(found).encode()).hexdigest(),
            )
            for table in TABLES
        }
    finally:
        conn.close()


def _restore(settings: Settings) -> subprocess.CompletedProcess[str]:
    replica = settings.replica
    environ = {
        "CUNBAN_NODE_ID": settings.node_id,
        "CUNBAN_TOWNSHIP_CODE": settings.township_code,
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "CUNBAN_STORE": "s3",
        "CUNBAN_S3_ENDPOINT": replica.s3_endpoint,
        "CUNBAN_S3_ACCESS_KEY": replica.s3_access_key,
        "CUNBAN_S3_SECRET_KEY": replica.s3_secret_key,
    }
    return subprocess.run(
        [PYTHON, "-m", "edge", "restore"],
        cwd=ROOT,
        env=os.environ | environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_edge_is_restored_from_the_store_after_one_volume_server_dies(
    store: Store, tmp_path: Path
):
    edge = _settings(tmp_path / "edge", store)
    asyncio.run(prepare(edge))
    asyncio.run(_with_applications(edge))
    while upload_pass(edge.replicated_node, system_clock()).sent:  # the photos to the store
        pass
    replicate_once(edge.replicated_node)  # then the database, by real Litestream
    before = _rows(edge.database_path)
    assert before["applications"][0] > 0 and before["blobs"][0] > 0

    placed = wait_for(
        lambda: (status := store.volume_status()) and any(status.values()) and status,
        30,
        "volumes placed",
    )
    copies: dict[object, list[str]] = {}
    for server, volumes in placed.items():
        for volume in volumes:
            copies.setdefault(volume["Id"], []).append(server)
    assert copies and all(len(servers) == 2 for servers in copies.values()), copies
    # the server holding the most data dies without a word
    victim = max(placed, key=lambda s: sum(int(v["Size"]) for v in placed[s]))
    name = f"volume{store.volumes.index(int(victim.rsplit(':', 1)[1]))}"
    store.processes[name].send_signal(signal.SIGKILL)
    store.processes[name].wait(30)

    fresh = _settings(tmp_path / "restored", store)
    restored = _restore(fresh)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "integrity check passed" in restored.stdout
    # every photo came back too, read from the copies on the servers left
    assert f"{before['blobs'][0]} blobs fetched, 0 recorded blobs not in the store" in (
        restored.stdout
    )
    assert _rows(fresh.database_path) == before
    conn = sqlite3.connect(fresh.database_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        blobs = [row[0] for row in conn.execute("SELECT sha256 FROM blobs")]
    finally:
        conn.close()
    assert all((fresh.data_dir / "blobs" / sha[:2] / sha).is_file() for sha in blobs)
