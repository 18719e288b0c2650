"""A real `python -m central serve` process with its demo accounts, for tests that need the
real server (its HTTP parser, its TLS) rather than the app in-process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.central_support import NODES
from tests.cluster import ROOT, free_port, wait_for


@contextmanager
def central_serving(root: Path, scheme: str = "http", **extra: str) -> Iterator[str]:
    """Run central in `root` on a free loopback port (extra CUNBAN_CENTRAL_* settings by
    field name); yield its URL once it listens."""
    port = free_port()
    environ = {
        **os.environ,
        "CUNBAN_CENTRAL_DATA_DIR": str(root / "central"),
        "CUNBAN_CENTRAL_REPLICA_DIR": str(root / "replica"),
        "CUNBAN_CENTRAL_PORT": str(port),
        "CUNBAN_CENTRAL_NODES": NODES,
        "CUNBAN_CENTRAL_COOKIE_SECURE": "false",
        "CUNBAN_CENTRAL_DEMO": "true",
        **{f"CUNBAN_CENTRAL_{name.upper()}": value for name, value in extra.items()},
    }
    with (root / "central.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "central", "serve"],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: _listening(port, server), 60, "central")
            yield f"{scheme}://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=20)


def _listening(port: int, server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None:
        raise AssertionError(f"central exited with {server.returncode}")
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return True
