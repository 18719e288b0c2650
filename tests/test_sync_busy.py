"""The sync loop outlives a write lock held past the budget by another process: it skips that
heartbeat (or waits for its key) and beats again once the lock is let go, instead of exiting and
taking the node's other processes down with it (honcho stops all when one exits)."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import time

from edge.kernel.db import BUSY_TIMEOUT_MS
from edge.settings import Settings
from edge.sync.loop import run
from tests.conftest import prepare

HOLD_SECONDS = BUSY_TIMEOUT_MS / 1000 + 2  # longer than a writer waits


def _hold_write_lock(path: str, started: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(HOLD_SECONDS)
    conn.execute("ROLLBACK")
    conn.close()


def _beat_ms(path: str) -> int | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT beat_ms FROM heartbeat WHERE id = 1").fetchone()
    return row[0] if row else None


async def _run_through_a_held_lock(settings: Settings) -> tuple[int | None, bool]:
    path = str(settings.database_path)
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, started))
    holder.start()
    started.wait()
    stop = asyncio.Event()
    loop = asyncio.create_task(run(settings, stop=stop))
    await asyncio.to_thread(holder.join)
    released_ms = int(time.time() * 1000)
    await asyncio.sleep(1.5)  # a few beats after the lock is let go
    crashed = loop.done()
    stop.set()
    await loop  # raises if the loop died of the lock
    beat = _beat_ms(path)
    return (beat - released_ms if beat is not None else None), crashed


def test_the_sync_loop_beats_again_after_a_long_held_write_lock(settings: Settings):
    asyncio.run(prepare(settings))
    fast = dataclasses.replace(settings, heartbeat_ms=200)
    after_release_ms, crashed = asyncio.run(_run_through_a_held_lock(fast))
    assert not crashed
    assert after_release_ms is not None and after_release_ms >= 0  # a beat after the release
