"""A node on a disk the test can fill: `python -m edge serve` on a small tmpfs mounted in its
own user and mount namespace (`unshare -Urm`, no root needed where user namespaces are
allowed); the test reaches that file system through the server's /proc/<pid>/root."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.cluster import ROOT, free_port, wait_for
from tests.conftest import LIANZHOU

DISK = "8m"  # the tmpfs: room for the demo node, then filled to the last page


def needs_unshare() -> None:
    """Fail (never skip) where user and mount namespaces cannot be made."""
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"this test needs `unshare -Urm` (user namespaces): {probe.stderr.strip()}")


def node_environ(data: Path, port: int) -> dict[str, str]:
    """The edge node's environment: data in `data`, plain HTTP on `port`."""
    return os.environ | {
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": LIANZHOU,
        "CUNBAN_DATA_DIR": str(data),
        "CUNBAN_PORT": str(port),
        "CUNBAN_COOKIE_SECURE": "false",
        "CUNBAN_MIN_FREE_MB": "1",
    }


def on_small_disk(data: Path, then: str) -> list[str]:
    """argv: mount a tmpfs of DISK on `data` in new namespaces, load the demo node, run `then`."""
    python = shlex.quote(sys.executable)
    script = (
        f"mount -t tmpfs -o size={DISK} tmpfs {shlex.quote(str(data))} && "
        f"{python} -m edge demo >/dev/null && {then}"
    )
    return ["unshare", "-Urm", "sh", "-c", script]


def fill(folder: Path) -> Path:
    """Write a file in `folder` until its file system has no page left."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: nothing left to flush at close
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.strerror == "No space left on device", exc
    return filler


class SmallDiskNode:
    """`python -m edge serve` on its own small tmpfs; `data` is that folder as the test sees
    it (through the server's /proc/<pid>/root)."""

    def __init__(self, root: Path) -> None:
        self.mountpoint = root / "edge"
        self.mountpoint.mkdir()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = (root / "edge.log").open("wb")
        argv = on_small_disk(self.mountpoint, f"exec {shlex.quote(sys.executable)} -m edge serve")
        self.server = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=node_environ(self.mountpoint, port),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.data = Path(f"/proc/{self.server.pid}/root") / self.mountpoint.relative_to("/")
        wait_for(self._answers, 90, "the edge node on its small disk")

    def _answers(self) -> bool:
        assert self.server.poll() is None, f"the node exited with {self.server.returncode}"
        try:
            return httpx2.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx2.TransportError:
            return False

    def rows(self, sql: str, *params: object) -> list[sqlite3.Row]:
        """Query a copy of the database as it is between requests (SQLite would resolve the
        /proc/<pid>/root link to the host's `/` and open another file)."""
        copy = self.mountpoint.parent / "copy"
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir()
        for name in ("edge.db", "edge.db-wal"):
            shutil.copyfile(self.data / name, copy / name)
        with sqlite3.connect(copy / "edge.db") as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=20)
        self.log.close()


@pytest.fixture
def small_disk_node(tmp_path: Path) -> Iterator[SmallDiskNode]:
    needs_unshare()
    running = SmallDiskNode(tmp_path)
    yield running
    running.stop()
