"""`python -m edge sync`: write the heartbeat every few seconds and pull the feed when due."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from edge.kernel.clock import Clock, millis, stamp, system_clock
from edge.kernel.db import Database
from edge.kernel.signals import stop_on_signals
from edge.settings import Settings
from edge.sync import heartbeat
from replication import feed_pull as feed
from replication import identity

log = logging.getLogger(__name__)


async def _pull(db: Database, settings: Settings, key_id: str, clock: Clock) -> tuple[str, bool]:
    """One feed pull: (error or '', more pages wait)."""
    try:
        result = await feed.pull_once(db, settings, key_id, clock())
    except (feed.FeedUnavailable, ValueError, KeyError) as exc:
        log.warning("feed pull failed: %s", exc)
        return str(exc) or type(exc).__name__, False
    if result.applied or result.refused:
        log.info("feed: %d applied, %d refused", result.applied, result.refused)
    return "", result.more


async def run(
    settings: Settings, clock: Clock = system_clock, stop: asyncio.Event | None = None
) -> None:
    """Beat and pull until `stop` is set (or SIGTERM/SIGINT)."""
    stop = stop or stop_on_signals()
    db = Database(settings.database_path)
    await db.open()
    try:
        async with db.write() as conn:
            key_id = await identity.ensure_key(conn, settings.keys_dir, stamp(clock()))
        next_pull = 0
        while not stop.is_set():
            error, more, pulled = "", False, False
            if settings.central_url and millis(clock) >= next_pull:
                error, more = await _pull(db, settings, key_id, clock)
                pulled = True
                next_pull = millis(clock) + (0 if more else settings.feed_ms)
            async with db.write() as conn:
                now_ms = millis(clock)
                await heartbeat.beat(conn, now_ms)
                if pulled:
                    await heartbeat.feed_pulled(conn, now_ms, error)
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.heartbeat_ms / 1000)
    finally:
        await db.close()
