"""A real cluster on loopback for tests and bench: S3 store, central (web + follow), edge nodes.

Every part is the program itself, started as a subprocess on free ports: SeaweedFS, uvicorn,
huey, Litestream. Nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replication.store import ADMIN_GRPC_OFFSET, GRPC_OFFSET

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NODES = {"lianzhou": "450521100000", "fucheng": "450503101000"}
FAST = {
    "sync_interval_ms": "100",
    "monitor_interval_ms": "100",
    "heartbeat_ms": "300",
    "replica_drill_seconds": "3",
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_block(size: int = 10) -> int:
    """The first of `size` consecutive free ports."""
    for _ in range(200):
        base = free_port()
        if base + size < 65000 and all(_free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no block of free ports")


def store_port_block() -> int:
    """A base port for `replication.store`: its block and its admin gRPC port free."""
    for _ in range(200):
        base = free_port_block()
        admin_grpc = base + ADMIN_GRPC_OFFSET
        if admin_grpc < 65000 and _free(admin_grpc):
            return base
    raise RuntimeError("no free ports for a store")


def free_port_with_grpc() -> int:
    """A free port whose SeaweedFS gRPC companion (port + 10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port + GRPC_OFFSET < 65000 and _free(port + GRPC_OFFSET):
            return port
    raise RuntimeError("no free port with its gRPC port")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = check()
            if found:
                return found
        except (OSError, sqlite3.Error) as exc:
            last_error = exc
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} ({last_error})")


def wait_for_port(port: int, timeout: float = 30) -> None:
    """Wait until something listens on 127.0.0.1:port."""

    def listening() -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, timeout, f"port {port}")


@dataclass
class Edge:
    """One township node of the cluster."""

    node_id: str
    township: str
    port: int
    data_dir: Path
    environ: dict[str, str]

    @property
    def url(self) -> str:
        """The node's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def query(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        """Read the node's database directly."""
        return _query(self.data_dir / "edge.db", sql, params)


def _query(path: Path, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@dataclass
class Cluster:
    """Start, stop, kill and inspect the cluster's processes."""

    root: Path
    store: str = "s3"
    tuning: dict[str, str] = field(default_factory=lambda: dict(FAST))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    store_port: int = 0
    central_port: int = 0

    def secret(self, name: str) -> str:
        """The store secret of `name` (a test value, different per identity)."""
        return f"{name}-secret-{self.store_port}"

    def start_store(self) -> None:
        """SeaweedFS on a block of free ports, one identity per node plus central."""
        self.store_port = self.store_port or store_port_block()
        identities = [f"--identity={n}={n}:{self.secret(n)}" for n in ["central", *NODES]]
        self.spawn(
            "store",
            [
                PYTHON,
                "-m",
                "replication.store",
                f"--dir={self.root / 'store'}",
                f"--port={self.store_port}",
                *identities,
            ],
            {},
        )
        wait_for_port(self.store_port, 60)
        time.sleep(0.5)  # the S3 gateway answers once its filer is up

    def _store_environ(self, prefix: str, identity: str) -> dict[str, str]:
        if self.store == "file":
            return {f"{prefix}STORE": "file", f"{prefix}REPLICA_DIR": str(self.root / "replica")}
        return {
            f"{prefix}STORE": "s3",
            f"{prefix}S3_ENDPOINT": f"http://127.0.0.1:{self.store_port}",
            f"{prefix}S3_ACCESS_KEY": identity,
            f"{prefix}S3_SECRET_KEY": self.secret(identity),
        }

    def central_environ(self) -> dict[str, str]:
        """Central's settings."""
        registry = ",".join(f"{e.node_id}={e.township}={e.url}" for e in self.edges.values())
        return {
            "CUNBAN_CENTRAL_DATA_DIR": str(self.root / "central"),
            "CUNBAN_CENTRAL_PORT": str(self.central_port),
            "CUNBAN_CENTRAL_NODES": registry,
            "CUNBAN_CENTRAL_COOKIE_SECURE": "false",
            "CUNBAN_CENTRAL_DEMO": "true",
            "CUNBAN_CENTRAL_FOLLOW_INTERVAL_MS": "100",
            "CUNBAN_CENTRAL_INGEST_MS": "100",
            "CUNBAN_CENTRAL_LOG_LEVEL": os.environ.get("CLUSTER_CENTRAL_LOG", "warning"),
            **self._store_environ("CUNBAN_CENTRAL_", "central"),
        }

    def add_edge(self, node_id: str) -> Edge:
        """Declare an edge node (before start_central, so central registers it)."""
        port = free_port()
        self.central_port = self.central_port or free_port()
        data_dir = self.root / node_id
        environ = {
            "CUNBAN_NODE_ID": node_id,
            "CUNBAN_TOWNSHIP_CODE": NODES[node_id],
            "CUNBAN_DATA_DIR": str(data_dir),
            "CUNBAN_PORT": str(port),
            "CUNBAN_COOKIE_SECURE": "false",
            "CUNBAN_DEMO": "true",
            "CUNBAN_LOG_LEVEL": "warning",
            "CUNBAN_CENTRAL_URL": f"http://127.0.0.1:{self.central_port}",
            "CUNBAN_ALLOW_PLAIN_HTTP": "true",  # loopback, no TLS
            **{f"CUNBAN_{k.upper()}": v for k, v in self.tuning.items()},
            **self._store_environ("CUNBAN_", node_id),
        }
        edge = Edge(node_id, NODES[node_id], port, data_dir, environ)
        self.edges[node_id] = edge
        return edge

    def start_central(self) -> None:
        """Central's web app and its follower/ingest process."""
        environ = self.central_environ()
        self.spawn("central_web", [PYTHON, "-m", "central", "serve"], environ)
        wait_for_port(self.central_port, 60)
        self.spawn("central_follow", [PYTHON, "-m", "central", "follow"], environ)

    def start_edge(
        self, node_id: str, parts: tuple[str, ...] = ("web", "worker", "replicate", "sync")
    ) -> None:
        """The node's processes: web (demo data), worker, replicate, sync."""
        edge = self.edges[node_id]
        if "web" in parts:
            self.spawn(f"{node_id}_web", [PYTHON, "-m", "edge", "serve"], edge.environ)
            wait_for_port(edge.port, 60)
        for part in parts:
            if part != "web":
                self.spawn(f"{node_id}_{part}", [PYTHON, "-m", "edge", part], edge.environ)

    def spawn(self, name: str, argv: list[str], environ: dict[str, str]) -> None:
        """Start one process, its output in root/logs/<name>.log."""
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = (logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, **environ}, stdout=out, stderr=subprocess.STDOUT
        )
        out.close()

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        """Send `signum` to a process and wait for it to end."""
        process = self.processes.pop(name)
        process.send_signal(signum)
        process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM the nodes (Litestream flushes to the store), then the store; SIGKILL laggards."""
        nodes = {n: p for n, p in self.processes.items() if n != "store"}
        store = {n: p for n, p in self.processes.items() if n == "store"}
        for group in (nodes, store):
            for process in group.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 15
            for process in group.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()

    def central(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        """Read central.db directly."""
        return _query(self.root / "central" / "central.db", sql, params)

    def log(self, name: str) -> str:
        """A process's output so far (for failure messages)."""
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
