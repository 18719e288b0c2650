"""`python -m central follow`: supervise a follower per node and ingest their mirrors in a loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import aiosqlite

from central import nodes
from central.audit import anchor
from central.feed.publish import publish_townships
from central.schema import migrate_database
from central.settings import CentralSettings
from edge.kernel.clock import Clock, millis, stamp, system_clock
from edge.kernel.db import Database
from edge.kernel.signals import stop_on_signals
from replication import followers
from replication.ingest import central_columns, ingest_node

log = logging.getLogger(__name__)


async def record(db: aiosqlite.Connection, follower: followers.Follower, now_ms: int) -> None:
    """Write what the supervisor knows of a follower, for /nodes."""
    now = asyncio.get_running_loop().time()
    good_at = follower.mirror_good_at
    await db.execute(
        """
        INSERT INTO followers (node_id, state, pid, restarts, mirror_path, rss_kb, last_error,
            updated_ms, started_ms, replica_generation, mirror_state, mirror_good_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (node_id) DO UPDATE SET state = excluded.state, pid = excluded.pid,
            restarts = excluded.restarts, mirror_path = excluded.mirror_path,
            rss_kb = excluded.rss_kb, last_error = excluded.last_error,
            updated_ms = excluded.updated_ms, started_ms = excluded.started_ms,
            replica_generation = excluded.replica_generation,
            mirror_state = excluded.mirror_state, mirror_good_ms = excluded.mirror_good_ms
        """,
        (
            follower.node_id,
            follower.state,
            follower.pid,
            follower.restarts,
            str(follower.mirror) if follower.mirror else None,
            follower.rss_kb(),
            follower.last_error,
            now_ms,
            now_ms - int((now - follower.started_at) * 1000) if follower.pid else None,
            follower.replica_generation,
            follower.mirror_state,
            now_ms - int((now - good_at) * 1000) if good_at is not None else None,
        ),
    )


async def ingest_all(
    db: Database,
    settings: CentralSettings,
    watched: list[followers.Follower],
    columns: dict[str, list[str]],
    now_ms: int,
) -> bool:
    """One ingest pass over every following mirror; whether some node has more to copy."""
    more = False
    for follower in watched:
        if follower.state != "following" or follower.mirror is None:
            continue
        try:
            result = await ingest_node(
                db, follower.node_id, follower.mirror, now_ms, settings.ingest_batch, columns
            )
        except sqlite3.Error as exc:  # a mirror being replaced, or not yet complete
            log.warning("ingest %s: %s", follower.node_id, exc)
            continue
        more = more or result.more
    return more


async def check_chains(db: Database, watched: list[followers.Follower], now_ms: int) -> None:
    """Compare each followed node's audit chain with central's witness (for /nodes)."""
    for follower in watched:
        if follower.state != "following" or follower.mirror is None:
            continue
        try:
            problems = await anchor.check(db, follower.node_id, follower.mirror, now_ms)
        except sqlite3.Error as exc:  # a mirror being replaced, or not yet complete
            log.warning("audit check %s: %s", follower.node_id, exc)
            continue
        if problems:
            log.warning("audit chain of %s diverges from central's witness", follower.node_id)


async def run(
    settings: CentralSettings, clock: Clock = system_clock, stop: asyncio.Event | None = None
) -> None:
    """Follow every registered node and ingest until `stop` (or SIGTERM/SIGINT)."""
    stop = stop or stop_on_signals()
    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        await migrate_database(db)
        async with db.write() as conn:
            for node_id, township, url in nodes.parse_registry(settings.nodes):
                await nodes.register(conn, node_id, township, url, stamp(clock()))
            await publish_townships(conn, stamp(clock()))  # when the registry changed
        async with db.read() as conn:
            columns = await central_columns(conn)  # fixed until the next migration
        watched = [
            followers.Follower(node_id, settings.mirrors_dir / node_id)
            for node_id, _, _ in nodes.parse_registry(settings.nodes)
        ]
        following = followers.Following(settings.store_config, settings.follow_interval_ms)
        tasks = [asyncio.create_task(followers.keep_running(following, f, stop)) for f in watched]
        checked_ms = 0
        while not stop.is_set():
            more = await ingest_all(db, settings, watched, columns, millis(clock))
            if millis(clock) - checked_ms >= anchor.CHECK_SECONDS * 1000:
                checked_ms = millis(clock)
                await check_chains(db, watched, checked_ms)
            async with db.write() as conn:
                for follower in watched:
                    await record(conn, follower, millis(clock))
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.ingest_ms / 1000)
        await asyncio.gather(*tasks)
    finally:
        await db.close()
