"""`python -m central follow [--shard i/n]`: keep a mirror of every node of the shard (by polling
the store, or one `litestream restore -f` per node) and ingest the mirrors in a loop; the first
shard's passes also send central's due SMS and, every minute, escalate county steps red too long."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import aiosqlite

from central import nodes, shipped_states
from central.audit import anchor
from central.feed.publish import apply_registry
from central.schema import migrate_database
from central.settings import CentralSettings
from central.sms.delivery import send_due
from central.supervision import deadlines
from central.supervision.demo import urge_demo_step
from edge.kernel.clock import Clock, millis, stamp, system_clock
from edge.kernel.db import Database, is_busy
from edge.kernel.signals import stop_on_signals
from replication import followers, polled_followers, shards, shipped_batches
from replication.ingest import central_columns, ingest_nodes, ingest_shipped
from replication.mirror_readers import MirrorReaders
from replication.objectstore import ObjectStore, StoreUnavailable, open_store
from replication.tables import Changes
from replication.turn_phases import TurnPhases

log = logging.getLogger(__name__)
STORE_THREADS = 32  # the polling design's LISTs, GETs and mirror writes in flight at once
RECORD_SECONDS = 2.0  # how often the polling design writes each follower's row (for /nodes)
PHASES_SECONDS = 30.0  # how often the polling design logs where its turns went


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
    readers: MirrorReaders | None = None,
    phases: TurnPhases | None = None,
    ship: Callable[[dict[str, Changes]], None] | None = None,
) -> bool:
    """One ingest pass over every following mirror, in one central.db transaction (`ship`:
    the changes go to central through the store first); whether some node has more to copy."""
    mirrors = [
        (f.node_id, f.mirror) for f in watched if f.state == "following" and f.mirror is not None
    ]
    if not mirrors:
        return False
    try:
        results = await ingest_nodes(
            db, mirrors, now_ms, settings.ingest_batch, columns, readers, phases, ship
        )
    except StoreUnavailable as exc:  # a shipping shard's PUT: nothing moved, the next pass
        log.warning("ingest waits for the store: %s", exc)
        return True
    except sqlite3.Error as exc:
        if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
            log.warning("ingest waits: %s", exc)  # central.db busy: the next pass copies it
            return True
        log.warning("ingest of %d nodes together failed (%s): one by one", len(mirrors), exc)
        return await ingest_each(db, settings, mirrors, columns, now_ms, readers, ship)
    return any(result.more for result in results.values())


async def ingest_each(
    db: Database,
    settings: CentralSettings,
    mirrors: list[tuple[str, Path]],
    columns: dict[str, list[str]],
    now_ms: int,
    readers: MirrorReaders | None,
    ship: Callable[[dict[str, Changes]], None] | None,
) -> bool:
    """Each node in its own transaction, so one node's bad rows hold up only that node."""
    more = False
    for node_id, mirror in mirrors:
        try:
            results = await ingest_nodes(
                db, [(node_id, mirror)], now_ms, settings.ingest_batch, columns, readers, None, ship
            )
        except (sqlite3.Error, StoreUnavailable) as exc:
            log.warning("ingest %s: %s", node_id, exc)
            continue
        more = more or any(result.more for result in results.values())
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


def shard_of(settings: CentralSettings, node_ids: list[str]) -> list[followers.Follower]:
    """A follower for each registered node this process's shard takes."""
    shard = shards.parse(settings.follow_shard) or (0, 1)
    return [
        followers.Follower(node_id, settings.mirrors_dir / node_id)
        for node_id in node_ids
        if shards.owns(shard, node_id)
    ]


async def prepare(
    db: Database, settings: CentralSettings, clock: Clock
) -> tuple[dict[str, list[str]], list[str]]:
    """Migrate, register the nodes; central's columns per ingested table, every node's id."""
    await migrate_database(db)
    async with db.write() as conn:
        await apply_registry(conn, settings.nodes, stamp(clock()))
    async with db.read() as conn:
        registered = [row["node_id"] for row in await nodes.all_nodes(conn)]
        return await central_columns(conn), registered  # fixed until the next migration


async def passes(
    db: Database,
    settings: CentralSettings,
    watched: list[followers.Follower],
    columns: dict[str, list[str]],
    clock: Clock,
    checked_ms: int,
) -> tuple[bool, int]:
    """Ingest, the audit check when due, the followers' rows; (more to copy, checked_ms)."""
    more = await ingest_all(db, settings, watched, columns, millis(clock))
    if millis(clock) - checked_ms >= anchor.CHECK_SECONDS * 1000:
        checked_ms = millis(clock)
        await check_chains(db, watched, checked_ms)
    async with db.write() as conn:
        for follower in watched:
            await record(conn, follower, millis(clock))
    return more, checked_ms


async def supervise(db: Database, settings: CentralSettings, clock: Clock, last_ms: int) -> int:
    """Remind and escalate county steps when the scan is due, then send what is due; when the
    scan last ran (a busy central.db leaves the scan to the next pass)."""
    if millis(clock) - last_ms >= deadlines.SCAN_SECONDS * 1000:
        try:
            async with db.write() as conn:
                if settings.web.demo:
                    await urge_demo_step(conn, settings.keys_dir, clock(), settings.web.timezone)
                await deadlines.scan(
                    conn, clock(), settings.web.timezone, settings.warning_working_days
                )
            last_ms = millis(clock)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            log.warning("deadline scan waits: %s", exc)
    try:
        await asyncio.to_thread(send_due, settings, clock())
    except sqlite3.Error as exc:  # central.db busy: the next pass sends them
        log.warning("sms: %s", exc)
    return last_ms


def supervises(settings: CentralSettings) -> bool:
    """Whether this process sends central's SMS and escalates: the first shard's (or the only)."""
    shard = shards.parse(settings.follow_shard) or (0, 1)
    return shard[0] == 0


async def run(
    settings: CentralSettings, clock: Clock = system_clock, stop: asyncio.Event | None = None
) -> None:
    """Follow every registered node of this shard and ingest until `stop` (or SIGTERM/SIGINT)."""
    if settings.follow_mode == "poll":
        await run_polling(settings, clock, stop)
        return
    stop = stop or stop_on_signals()
    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        columns, registered = await prepare(db, settings, clock)
        watched = shard_of(settings, registered)
        following = followers.Following(settings.store_config, settings.follow_interval_ms)
        tasks = [asyncio.create_task(followers.keep_running(following, f, stop)) for f in watched]
        checked_ms = scanned_ms = 0
        while not stop.is_set():
            more, checked_ms = await passes(db, settings, watched, columns, clock, checked_ms)
            if supervises(settings):
                scanned_ms = await supervise(db, settings, clock, scanned_ms)
            if not more:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.ingest_ms / 1000)
        await asyncio.gather(*tasks)
    finally:
        await db.close()


async def receive(db: Database, settings: CentralSettings, store: ObjectStore, now_ms: int) -> None:
    """Apply what shards on other machines shipped (a store or central.db busy: next turn)."""
    with _next_pass("shipped batches"):
        await ingest_shipped(db, store, now_ms, settings.ingest_batch)


@contextlib.contextmanager
def _next_pass(what: str) -> Iterator[None]:
    """The store unreachable or central.db busy: logged, and tried again at the next pass."""
    try:
        yield
    except StoreUnavailable as exc:
        log.warning("%s: %s", what, exc)
    except sqlite3.OperationalError as exc:
        if not is_busy(exc):
            raise
        log.warning("%s wait: %s", what, exc)


def turn_slice(
    polled: list[polled_followers.Polled], turn: int, interval_ms: int, period: float
) -> list[polled_followers.Polled]:
    """The nodes a turn handles for a periodic chore: each node once in about `period`
    seconds, a slice a turn, so no turn stalls on doing them all."""
    turns = max(1, int(period * 1000 / interval_ms))
    return [p for index, p in enumerate(polled) if index % turns == turn % turns]


async def exchange_states(
    db: Database, settings: CentralSettings, store: ObjectStore, nodes: list[str]
) -> None:
    """A shard on another machine puts its follower and audit rows in the store; central's
    shard 0 copies in what such shards put (the store or central.db busy: the next time)."""
    shard = shards.parse(settings.follow_shard) or (0, 1)
    with _next_pass("follower states"):
        if settings.follow_ship:
            await shipped_states.send(db, store, shard, nodes)
        elif supervises(settings):
            await shipped_states.receive(db, store)


async def run_polling(
    settings: CentralSettings, clock: Clock = system_clock, stop: asyncio.Event | None = None
) -> None:
    """One process follows every node of its shard (`replication.polled_followers`): each turn
    applies the new LTX files of every node, then ingests the nodes that changed."""
    stop = stop or stop_on_signals()
    db = Database(settings.database_path, replicated=False)
    await db.open()
    try:
        columns, registered = await prepare(db, settings, clock)
        polled = [polled_followers.Polled(f) for f in shard_of(settings, registered)]
        following = followers.Following(
            settings.store_config, settings.follow_interval_ms, restore=settings.follow_restore
        )
        connections = STORE_THREADS + polled_followers.GET_THREADS
        store = open_store(settings.store_config, connections=connections)
        # store calls wait on the network far more than they compute: more threads than cores
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(STORE_THREADS))
        await polling_turns(db, settings, clock, stop, columns, polled, following, store)
        async with db.write() as conn:  # every follower's last state, for /nodes
            for p in polled:
                await record(conn, p.follower, millis(clock))
    finally:
        await db.close()


async def polling_turns(
    db: Database,
    settings: CentralSettings,
    clock: Clock,
    stop: asyncio.Event,
    columns: dict[str, list[str]],
    polled: list[polled_followers.Polled],
    following: followers.Following,
    store: ObjectStore,
) -> None:
    """Turn after turn until `stop`: new LTX files of every node, one ingest of the nodes
    that changed, the chores of a slice; where the time went is logged every 30 s."""
    loop = asyncio.get_running_loop()
    pool = asyncio.Semaphore(polled_followers.RESTORES_AT_ONCE)
    readers, phases = MirrorReaders(), TurnPhases()
    shard = shards.parse(settings.follow_shard) or (0, 1)
    ship = partial(shipped_batches.ship, store, shard) if settings.follow_ship else None
    turn, more, scanned_ms, reported, exchanged = 0, False, 0, loop.time(), 0.0
    try:
        while not stop.is_set():
            started = loop.time()
            with phases.timed("poll"):
                await asyncio.gather(
                    *(polled_followers.poll(following, store, p, pool, phases) for p in polled)
                )
            due = [p.follower for p in polled if p.changed or more]
            for p in polled:
                p.changed = False
            more = await ingest_all(
                db, settings, due, columns, millis(clock), readers, phases, ship
            )
            with phases.timed("chores"):
                if supervises(settings):
                    await receive(db, settings, store, millis(clock))
                    scanned_ms = await supervise(db, settings, clock, scanned_ms)
                interval = settings.follow_interval_ms
                checked = turn_slice(polled, turn, interval, anchor.CHECK_SECONDS)
                await check_chains(db, [p.follower for p in checked], millis(clock))
                async with db.write() as conn:
                    for p in turn_slice(polled, turn, interval, RECORD_SECONDS):
                        await record(conn, p.follower, millis(clock))
                if loop.time() - exchanged >= shipped_states.SHIP_SECONDS:
                    exchanged = loop.time()
                    nodes = [p.follower.node_id for p in polled]
                    await exchange_states(db, settings, store, nodes)
            phases.add("turn", loop.time() - started)
            turn += 1
            if loop.time() - reported >= PHASES_SECONDS:
                reported = loop.time()
                log.info("turn phases %s", phases.report())
            left = settings.follow_interval_ms / 1000 - (loop.time() - started)
            if not more and left > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), left)
    finally:
        readers.close()
        for task in list(polled_followers.RUNNING):
            task.cancel()
