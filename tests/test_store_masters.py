"""The store with three masters (`-peers`, as deploy/install runs it on 3 machines), on
loopback: 3 masters electing a leader, 3 volume servers (`001`), a filer with S3 that knows
every master, the bucket made by `python -m replication.bucket`'s ensure_bucket. An edge
replicates to it; the leader master and the volume server holding the most data are killed;
the two masters left elect a new leader, the edge writes once more and is restored
through S3. Nothing mocked."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.kernel.clock import system_clock
from replication.blob_upload import upload_pass
from replication.litestream import replicate_once
from replication.store import (
    GRPC_OFFSET,
    bucket_command,
    ensure_bucket,
    filer_command,
    identities,
    master_command,
    volume_command,
)
from tests.cluster import free_port_with_grpc, wait_for, wait_for_port
from tests.conftest import prepare
from tests.test_replication import _with_applications
from tests.test_store_cluster import SECRET, Store, _restore, _rows, _settings


class Masters(Store):
    """Store's processes and ports, with three masters instead of one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes = {}
        ports: set[int] = set()
        while len(ports) < 8:  # 3 masters, 3 volume servers, filer, S3; their gRPC ports apart
            port = free_port_with_grpc()
            if not {port, port + GRPC_OFFSET} & {p + d for p in ports for d in (0, GRPC_OFFSET)}:
                ports.add(port)
        *self.masters, self.filer, self.s3 = sorted(ports)[:3] + sorted(ports)[6:]
        self.volumes = sorted(ports)[3:6]
        self.peers = [f"127.0.0.1:{port}" for port in self.masters]
        self.master = self.masters[0]  # whose /vol/status Store.volume_status reads

    def leader(self, among: list[int]) -> int | None:
        """The port of the master that `among`'s live masters agree leads, if they do."""
        said = set()
        for port in among:
            try:
                url = f"http://127.0.0.1:{port}/cluster/status"
                with urllib.request.urlopen(url, timeout=3) as answer:
                    said.add(json.load(answer).get("Leader", ""))
            except OSError:
                return None
        if len(said) != 1 or not (leader := said.pop()):
            return None
        port = int(leader.rsplit(":", 1)[1].split(".")[0])  # "ip:port.grpcPort"
        return port if port in among else None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Masters]:
    running = Masters(tmp_path / "store")
    try:
        config = running.root / "s3.json"
        running.root.mkdir(parents=True)
        entries = ["central=central:central-secret", f"lianzhou=lianzhou:{SECRET}"]
        config.write_text(json.dumps(identities(entries)), encoding="utf-8")
        for number, port in enumerate(running.masters):
            folder = running.root / f"master{number}"
            command = master_command(folder, port, "001", 64, peers=running.peers)
            running.spawn(f"master{number}", command)
        for port in running.masters:
            wait_for_port(port, 60)
        running.master = wait_for(lambda: running.leader(running.masters), 60, "a leader")
        for number, port in enumerate(running.volumes):
            folder = running.root / f"volume{number}"
            folder.mkdir()
            command = volume_command(folder, port, 0, masters=running.peers)
            running.spawn(f"volume{number}", command)
        wait_for(lambda: len(running.volume_status()) == 3, 60, "3 volume servers registered")
        (running.root / "filer").mkdir()
        filer = filer_command(
            running.root / "filer", running.filer, running.s3, 0, config, masters=running.peers
        )
        running.spawn("filer", filer)
        wait_for_port(running.s3, 60)
        shell = bucket_command(",".join(running.peers), f"127.0.0.1:{running.filer}")
        assert ensure_bucket(shell) is True
        assert ensure_bucket(shell) is False  # a second run (another machine's unit) is a no-op
        yield running
    finally:
        running.stop()


def test_the_store_survives_its_leader_master_and_a_volume_server(store: Masters, tmp_path):
    edge = _settings(tmp_path / "edge", store)
    asyncio.run(prepare(edge))
    asyncio.run(_with_applications(edge))
    while upload_pass(edge.replicated_node, system_clock()).sent:
        pass
    replicate_once(edge.replicated_node)
    before = _rows(edge.database_path)
    placed = wait_for(
        lambda: (status := store.volume_status()) and any(status.values()) and status,
        30,
        "volumes placed",
    )
    victim = max(placed, key=lambda s: sum(int(v["Size"]) for v in placed[s]))
    dead_volume = f"volume{store.volumes.index(int(victim.rsplit(':', 1)[1]))}"
    dead_master = f"master{store.masters.index(store.master)}"
    for name in (dead_master, dead_volume):
        store.processes[name].send_signal(signal.SIGKILL)
        store.processes[name].wait(30)
    left = [port for port in store.masters if port != store.master]
    new_leader = wait_for(lambda: store.leader(left), 60, "a new leader of the two masters left")
    assert new_leader in left
    with sqlite3.connect(edge.database_path) as db:  # a write after the leader died
        db.execute("CREATE TABLE after_the_leader (said TEXT)")
        db.execute("INSERT INTO after_the_leader VALUES ('still here')")
    replicate_once(edge.replicated_node)  # through S3 and the new leader

    fresh = _settings(tmp_path / "restored", store)
    restored = _restore(fresh)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "integrity check passed" in restored.stdout
    assert f"{before['blobs'][0]} blobs fetched, 0 recorded blobs not in the store" in (
        restored.stdout
    )
    assert _rows(fresh.database_path) == before
    with sqlite3.connect(fresh.database_path) as db:
        assert db.execute("SELECT said FROM after_the_leader").fetchall() == [("still here",)]
