"""The demo's S3 store (`python -m replication.store`): it waits for a previous store to let go
of its ports instead of failing, and runs without an error line every few seconds."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.cluster import PYTHON, ROOT, store_port_block, wait_for_port

NOISE = ("connection refused", "INITIAL CONNECTION FAILED", "Reconnection attempt")


def _store(tmp_path: Path, port: int, wait: float, log: Path) -> subprocess.Popen[bytes]:
    argv = [PYTHON, "-m", "replication.store", f"--dir={tmp_path / 'store'}", f"--port={port}"]
    argv += ["--identity=central=central:central-secret", f"--wait={wait}"]
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def _listener(port: int) -> socket.socket:
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("127.0.0.1", port))
    held.listen()
    return held


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_a_store_waits_for_a_port_the_previous_store_still_holds(tmp_path: Path):
    port = store_port_block()
    held = _listener(port + 2)  # the master's port, as after Ctrl-C of the previous demo
    log = tmp_path / "store.log"
    store = _store(tmp_path, port, 60, log)
    try:
        time.sleep(2)
        assert store.poll() is None, log.read_text()
        assert f"waiting for port {port + 2}" in log.read_text()
        held.close()
        wait_for_port(port, 60)
        assert "not available" not in log.read_text()
    finally:
        held.close()
        _stop(store)


def test_a_port_held_for_good_is_named_and_the_store_exits(tmp_path: Path):
    port = store_port_block()
    held = _listener(port + 4)
    log = tmp_path / "store.log"
    try:
        store = _store(tmp_path, port, 1, log)
        assert store.wait(30) != 0
    finally:
        held.close()
    assert f"port {port + 4} is still in use after 1 s" in log.read_text()


def test_the_store_runs_without_an_error_every_few_seconds(tmp_path: Path):
    port = store_port_block()
    log = tmp_path / "store.log"
    store = _store(tmp_path, port, 60, log)
    try:
        wait_for_port(port, 60)
        time.sleep(8)  # the maintenance worker retried every 1.5-5 s when it could not connect
    finally:
        _stop(store)
    output = log.read_text()
    assert "Admin" in output  # the store's start-up table was read, not an empty log
    assert not [line for line in output.splitlines() if any(n in line for n in NOISE)]
