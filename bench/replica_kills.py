"""The power-cut scenario of issue 11: an edge database written at a low rate while its
replicate process (`python -m edge replicate`: Litestream and its drills) is SIGKILLed again
and again; then the disk dies and `python -m edge restore` rebuilds it. A round passes when the
restore succeeds and holds every write acknowledged more than 3 s before the crash.

    python -m bench.replica_kills --rounds 20 --kills 10 --interval 0.5 --interval 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edge.demo import load_demo_node
from edge.kernel.db import connect_sync
from edge.settings import Settings
from replication.store import prepare as store_command
from replication.store_config import StoreSettings
from tests.cluster import free_port_block, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
SETTLED_MS = 3000


@dataclass(frozen=True)
class Round:
    """One round: writes acknowledged, those older than 3 s at the crash, restored, missing."""

    acknowledged: int
    settled: int
    restored: int | None
    missing: int | None
    restore_ok: bool
    detail: str


def node_settings(folder: Path, node_id: str = "lianzhou") -> Settings:
    """An edge node in `folder` with its file replica beside it."""
    return Settings(
        node_id=node_id,
        township_code="450521100000",
        data_dir=folder / "edge",
        replica=StoreSettings(replica_dir=folder / "replica"),
    )


def environ(settings: Settings, store: Mapping[str, str]) -> dict[str, str]:
    """The environment of the node's commands; `store` names an S3 store (else the file one)."""
    return os.environ | {
        "CUNBAN_NODE_ID": settings.node_id,
        "CUNBAN_TOWNSHIP_CODE": settings.township_code,
        "CUNBAN_DATA_DIR": str(settings.data_dir),
        "CUNBAN_REPLICA_DIR": str(settings.replica.replica_dir),
        "CUNBAN_REPLICA_DRILL_SECONDS": "5",
        **store,
    }


class SeaweedFS:
    """A SeaweedFS S3 store for the whole run, with one identity per round's node."""

    SECRET = "bench-secret"

    def __init__(self, folder: Path, nodes: list[str]) -> None:
        self.port = free_port_block()
        entries = [f"{name}={name}:{self.SECRET}" for name in nodes]
        command = store_command(folder, self.port, entries)
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, 90)
        time.sleep(1)

    def environ(self, node_id: str) -> dict[str, str]:
        """The S3 settings of one node."""
        return {
            "CUNBAN_STORE": "s3",
            "CUNBAN_S3_ENDPOINT": f"http://127.0.0.1:{self.port}",
            "CUNBAN_S3_ACCESS_KEY": node_id,
            "CUNBAN_S3_SECRET_KEY": self.SECRET,
        }

    def close(self) -> None:
        """Stop the store."""
        self.process.terminate()
        self.process.wait(30)


class Writer(threading.Thread):
    """Acknowledged writes through the node's own connection settings, about every `interval`."""

    def __init__(self, settings: Settings, interval: float, body_kb: int = 40) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.interval = interval
        self.body_bytes = body_kb * 1024
        self.stop = threading.Event()
        self.acknowledged: list[tuple[int, int]] = []

    def run(self) -> None:
        with closing(connect_sync(self.settings.database_path)) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS drill_writes "
                "(id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, body BLOB NOT NULL)"
            )
            n = 0
            while not self.stop.is_set():
                n += 1
                at_ms = int(time.time() * 1000)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO drill_writes VALUES (?, ?, ?)",
                    (n, at_ms, os.urandom(random.randint(1000, self.body_bytes))),
                )
                conn.execute("COMMIT")
                self.acknowledged.append((n, at_ms))
                self.stop.wait(random.uniform(0.5, 1.5) * self.interval)


def start_replicate(settings: Settings, store: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """The node's replicate process in its own process group (a kill takes Litestream too)."""
    return subprocess.Popen(
        [sys.executable, "-m", "edge", "replicate"],
        cwd=ROOT,
        env=environ(settings, store),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def power_cut(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the replicate process and its Litestream."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_round(
    folder: Path,
    kills: int,
    interval: float,
    body_kb: int = 40,
    node_id: str = "lianzhou",
    store: Mapping[str, str] | None = None,
) -> Round:
    """Write, kill replicate `kills` times (1-6 s after each start), crash, restore, count.

    Writes of up to `body_kb` KB (40: about 5 pages on average) fill the WAL's 1000 pages
    every minute or so at 0.5 s, so checkpoints and WAL restarts fall between the kills.
    """
    settings = node_settings(folder, node_id)
    store = store or {}
    asyncio.run(load_demo_node(settings, datetime.now(UTC), applications=True))
    writer = Writer(settings, interval, body_kb)
    writer.start()
    for _ in range(kills):
        process = start_replicate(settings, store)
        time.sleep(random.uniform(1, 6))
        power_cut(process)
        time.sleep(random.uniform(0, 1))
    process = start_replicate(settings, store)
    time.sleep(random.uniform(4, 6))
    crash_ms = int(time.time() * 1000)
    writer.stop.set()
    writer.join()
    power_cut(process)
    for suffix in ("", "-wal", "-shm"):  # the disk dies
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    restored = subprocess.run(
        [sys.executable, "-m", "edge", "restore"],
        cwd=ROOT,
        env=environ(settings, store),
        capture_output=True,
        text=True,
        timeout=600,
    )
    settled = {n for n, at_ms in writer.acknowledged if at_ms < crash_ms - SETTLED_MS}
    if restored.returncode != 0:
        detail = restored.stderr.strip()[-300:]
        return Round(len(writer.acknowledged), len(settled), None, None, False, detail)
    with closing(sqlite3.connect(settings.database_path)) as conn:
        got = {row[0] for row in conn.execute("SELECT id FROM drill_writes")}
    detail = restored.stdout.strip().splitlines()[0] if restored.stdout.strip() else ""
    return Round(len(writer.acknowledged), len(settled), len(got), len(settled - got), True, detail)


def main() -> None:
    """Run the rounds at each write interval; print one JSON line per round and a summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.replica_kills")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--interval", type=float, action="append", help="seconds between writes")
    parser.add_argument("--body-kb", type=int, default=40, help="largest write, in KB")
    parser.add_argument("--store", choices=["file", "s3"], default="file")
    args = parser.parse_args()
    intervals = args.interval or [0.5, 2.0]
    names = [f"kill{i}-{n}" for i in range(len(intervals)) for n in range(args.rounds)]
    with tempfile.TemporaryDirectory(prefix="replica-kills-store-") as store_folder:
        seaweed = SeaweedFS(Path(store_folder), names) if args.store == "s3" else None
        try:
            for index, interval in enumerate(intervals):
                _rounds(args, index, interval, seaweed)
        finally:
            if seaweed is not None:
                seaweed.close()


def _rounds(
    args: argparse.Namespace, index: int, interval: float, seaweed: SeaweedFS | None
) -> None:
    """The rounds at one write interval, a JSON line each, then their summary."""
    bad = lost = 0
    for number in range(args.rounds):
        node_id = f"kill{index}-{number}"
        store = seaweed.environ(node_id) if seaweed else {}
        with tempfile.TemporaryDirectory(prefix="replica-kills-") as folder:
            found = run_round(Path(folder), args.kills, interval, args.body_kb, node_id, store)
        bad += not found.restore_ok
        lost += found.missing or 0
        print(json.dumps({"interval": interval, "round": number, **found.__dict__}), flush=True)
    summary = {"interval": interval, "rounds": args.rounds, "kills": args.kills}
    summary |= {"store": args.store, "unrestorable": bad, "settled_writes_missing": lost}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
