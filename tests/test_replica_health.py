"""The replica is drilled, healed and restored from its newest clean point (issue 11, finding 1):
real Litestream on the embedded file store, a real replicate process, real corruption."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from starlette.testclient import TestClient

from bench.replica_kills import run_round
from edge.app import create_app
from edge.settings import Settings
from replication.litestream import replicate_once
from replication.store_config import StoreSettings
from tests.conftest import prepare

ROOT = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        node_id="lianzhou",
        township_code="450521100000",
        data_dir=tmp_path / "edge",
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
        sync_interval_ms=100,
        monitor_interval_ms=100,
        replica_drill_seconds=1,
    )


def _environ(settings: Settings) -> dict[str, str]:
    return os.environ | {
        "CUNBAN_NODE_ID": settings.node_id,
        "CUNBAN_TOWNSHIP_CODE": settings.township_code,
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "CUNBAN_REPLICA_DIR": str(settings.replica.replica_dir),
        "CUNBAN_SYNC_INTERVAL_MS": "100",
        "CUNBAN_MONITOR_INTERVAL_MS": "100",
        "CUNBAN_REPLICA_DRILL_SECONDS": "1",
    }


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge", *args],
        cwd=ROOT,
        env=_environ(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _beat(settings: Settings, beat_ms: int) -> None:
    """One acknowledged write: the heartbeat row (it says how far a restored copy reaches)."""
    with closing(sqlite3.connect(settings.database_path, isolation_level=None)) as conn:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute(
            "INSERT INTO heartbeat (id, beat_ms) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET beat_ms = excluded.beat_ms",
            (beat_ms,),
        )


def _read(path: Path, sql: str) -> object:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql).fetchone()[0]


def _ltx_files(replica: Path) -> list[Path]:
    return sorted(replica.rglob("*.ltx"))


def _damage(path: Path) -> None:
    """Flip bytes in the middle of a replica object, as a bad disk or a torn upload would."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for offset in range(middle, min(middle + 64, len(data))):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _wait_for(check, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_replica_that_no_longer_restores_is_seen_and_rewritten_as_a_new_generation(tmp_path):
    settings = _settings(tmp_path)
    asyncio.run(prepare(settings))
    node = settings.replicated_node
    process = subprocess.Popen(
        [sys.executable, "-m", "edge", "replicate"],
        cwd=ROOT,
        env=_environ(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        health = lambda: _read(settings.database_path, "SELECT state FROM replica_health")  # noqa: E731
        _wait_for(lambda: health() == "ok", 60, "the first clean drill")
        for beat in range(1, 4):
            _beat(settings, beat)
            time.sleep(0.3)
        first = node.replica_path_of(1)
        _wait_for(lambda: _ltx_files(first), 10, "LTX files")
        for ltx in _ltx_files(first):  # every object of generation 1 is damaged
            _damage(ltx)
        states: set[object] = set()

        def healed() -> bool:
            states.add(health())
            return _read(settings.database_path, "SELECT generation FROM replica_health") == 2 and (
                health() == "ok"
            )

        _wait_for(healed, 60, "a verified second generation")
        assert states & {"corrupt", "healing"}  # red was visible before it healed
        pointer = json.loads((tmp_path / "replica" / "nodes/lianzhou/generation.json").read_text())
        assert pointer["generation"] == 2
        assert _ltx_files(first), "the old generation is kept"
        with TestClient(create_app(settings), base_url="https://testserver") as client:
            answer = client.get("/healthz")
        assert answer.status_code == 200
        assert answer.json()["replica_state"] == "ok"
        assert answer.json()["replica_generation"] == 2
        assert answer.json()["replica_good_ms"] > 0
        _beat(settings, 99)
        time.sleep(1.5)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)

    for suffix in ("", "-wal", "-shm"):  # the node's disk dies
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    restored = _cli(settings, "restore")
    assert restored.returncode == 0, restored.stderr
    assert "replica generation 2" in restored.stdout
    assert _read(settings.database_path, "SELECT beat_ms FROM heartbeat") == 99
    assert _read(settings.database_path, "SELECT generation FROM replica_health") == 3


def _three_points(settings: Settings) -> None:
    """Three acknowledged writes, each shipped to the replica as its own LTX file."""
    asyncio.run(prepare(settings))
    for beat in (1, 2, 3):
        _beat(settings, beat)
        replicate_once(settings.replicated_node)


def test_restore_falls_back_to_the_newest_clean_point_and_says_what_it_lost(tmp_path):
    settings = _settings(tmp_path)
    _three_points(settings)
    newest = max(_ltx_files(settings.replicated_node.replica_path_of(1)), key=lambda p: p.name)
    _damage(newest)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)

    restored = _cli(settings, "restore")

    assert restored.returncode == 0, restored.stderr
    assert "corrupt after txid" in restored.stdout
    assert "does not restore" in restored.stdout
    assert _read(settings.database_path, "SELECT beat_ms FROM heartbeat") == 2
    assert _read(settings.database_path, "PRAGMA integrity_check") == "ok"


def test_restore_takes_central_mirror_when_it_is_newer_and_sound(tmp_path):
    settings = _settings(tmp_path)
    _three_points(settings)
    _beat(settings, 4)  # central's mirror saw this write; the replica's copy of it is lost
    mirror = tmp_path / "mirror.db"
    with (
        closing(sqlite3.connect(settings.database_path)) as live,
        closing(sqlite3.connect(mirror)) as copy,
    ):
        live.backup(copy)
    newest = max(_ltx_files(settings.replicated_node.replica_path_of(1)), key=lambda p: p.name)
    _damage(newest)
    shutil.rmtree(settings.data_dir)

    restored = _cli(settings, "restore", "--mirror", str(mirror))

    assert restored.returncode == 0, restored.stderr
    assert f"from central's mirror {mirror}" in restored.stdout
    assert _read(settings.database_path, "SELECT beat_ms FROM heartbeat") == 4

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    Path(f"{settings.database_path}").unlink()
    refused_mirror = _cli(settings, "restore", "--mirror", str(damaged))
    assert refused_mirror.returncode == 0, refused_mirror.stderr
    assert "FAILS the check" in refused_mirror.stdout
    assert _read(settings.database_path, "SELECT beat_ms FROM heartbeat") == 2


def test_replica_restores_after_its_replicate_process_is_killed_again_and_again(tmp_path):
    """Finding 1's scenario, shortened: a write every ~0.5 s; replicate (Litestream and its
    drills) SIGKILLed 12 times 1-6 s after each start; then the disk dies. The restore holds
    every write acknowledged more than 3 s before the crash (the soak: bench/replica_kills)."""
    found = run_round(tmp_path, kills=12, interval=0.5)

    assert found.restore_ok, found.detail
    assert found.settled > 30
    assert found.missing == 0, found


def test_healthz_is_red_while_the_replica_is_corrupt_or_not_yet_verified(tmp_path):
    settings = _settings(tmp_path)
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        fresh = client.get("/healthz")
        assert fresh.status_code == 200 and fresh.json()["replica_state"] == "unknown"
        for state, status in (
            ("corrupt", 503),
            ("healing", 503),
            ("unreachable", 200),
            ("ok", 200),
        ):
            with closing(sqlite3.connect(settings.database_path, isolation_level=None)) as conn:
                conn.execute(
                    "UPDATE replica_health SET state = ?, good_ms = 1700000000000, error = ?",
                    (state, "integrity check failed" if state == "corrupt" else ""),
                )
            answer = client.get("/healthz")
            assert answer.status_code == status, state
            body = answer.json()
            assert body["replica_ok"] is (status == 200) and body["ok"] is (status == 200)
            assert body["replica_state"] == state and body["replica_good_ms"] == 1700000000000
