"""`python -m edge sync`: write the heartbeat every few seconds and pull the feed when due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from edge.kernel.clock import Clock, millis, stamp, system_clock
from edge.kernel.db import Database, is_busy
from edge.kernel.signals import stop_on_signals
from edge.settings import Settings
from edge.sync import commands, heartbeat
from replication import identity
from replication.feed import pull as feed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullResult:
    """What one pull did: commands applied, refused, and whether more wait."""

    applied: int
    refused: int
    more: bool


async def pull_once(db: Database, settings: Settings, key_id: str, now: datetime) -> PullResult:
    """Fetch the next page and apply it (one transaction per page); nothing applied twice."""
    async with db.read() as conn:
        after = await commands.cursor(conn)
    source = feed.FeedSource(settings.central_url, settings.node_id, settings.keys_dir, key_id)
    page = await asyncio.to_thread(feed.fetch_page, source, after)
    applied = refused = 0
    async with db.write() as conn:
        for entry in page.entries:
            result = await commands.apply(conn, settings, entry, now)
            applied += result == "applied"
            refused += result == "refused"
    return PullResult(applied, refused, page.more)


async def _pull(db: Database, settings: Settings, key_id: str, clock: Clock) -> tuple[str, bool]:
    """One feed pull: (error or '', more pages wait)."""
    try:
        result = await pull_once(db, settings, key_id, clock())
    except (feed.FeedUnavailable, ValueError, KeyError) as exc:
        log.warning("feed pull failed: %s", exc)
        return str(exc) or type(exc).__name__, False
    except sqlite3.OperationalError as exc:  # the write lock held too long: the next pull
        if not is_busy(exc):
            raise
        log.warning("feed pull waits: %s", exc)
        return "database busy", False
    if result.applied or result.refused:
        log.info("feed: %d applied, %d refused", result.applied, result.refused)
    return "", result.more


async def _node_key(db: Database, settings: Settings, clock: Clock, stop: asyncio.Event) -> str:
    """The node's signing key id (made on first start); waits out a busy write lock."""
    while True:
        try:
            async with db.write() as conn:
                return await identity.ensure_key(conn, settings.keys_dir, stamp(clock()))
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or stop.is_set():
                raise
            log.warning("node key waits: %s", exc)


async def _beat(db: Database, clock: Clock, pull_error: str | None) -> None:
    """The heartbeat, and the last pull's outcome when there was one; a write lock held by
    another process past the budget skips this beat, it never stops the loop."""
    try:
        async with db.write() as conn:
            now_ms = millis(clock)
            await heartbeat.beat(conn, now_ms)
            if pull_error is not None:
                await heartbeat.feed_pulled(conn, now_ms, pull_error)
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        log.warning("heartbeat skipped: %s", exc)


async def run(
    settings: Settings, clock: Clock = system_clock, stop: asyncio.Event | None = None
) -> None:
    """Beat and pull until `stop` is set (or SIGTERM/SIGINT)."""
    stop = stop or stop_on_signals()
    db = Database(settings.database_path)
    await db.open()
    try:
        key_id = await _node_key(db, settings, clock, stop)
        next_pull = 0
        while not stop.is_set():
            error, more, pulled = "", False, False
            if settings.central_url and millis(clock) >= next_pull:
                error, more = await _pull(db, settings, key_id, clock)
                pulled = True
                next_pull = millis(clock) + (0 if more else settings.feed_ms)
            await _beat(db, clock, error if pulled else None)
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.heartbeat_ms / 1000)
    finally:
        await db.close()
