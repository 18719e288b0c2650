"""Many nodes followed by one process: each mirror is rebuilt once from the store's LTX files
(the newest snapshot, then the compactions and level 0 after it; `litestream restore` when they
do not chain), a few at a time, then kept current by listing the store for new level-0 LTX
files and applying their pages here. A gap in level 0, an unreadable file, a mirror failing its
checks or a new replica generation restores the mirror anew (see `replication.followers`)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from replication import generations, ltx
from replication.followers import (
    MAX_BACKOFF_SECONDS,
    Follower,
    Following,
    needs_new_follower,
    write_config,
)
from replication.litestream import die_with_parent, litestream_binary, litestream_environ
from replication.objectstore import ObjectStore, StoreUnavailable
from replication.turn_phases import TurnPhases

log = logging.getLogger(__name__)

FILES_A_TURN = 32  # LTX files applied per node per turn (fetched together); further behind: level 1
GET_THREADS = 32  # LTX files fetched at once, across nodes (each waits on the store, not a core)
RESTORES_AT_ONCE = 8  # mirrors rebuilt together (waiting on GETs; a litestream restore: ~35 MB)
SQLITE_LOCK_BYTE = 0x40000000  # SQLite's PENDING byte; RESERVED and SHARED follow it
SQLITE_LOCK_SPAN = 512
CHANGE_COUNTER_OFFSET = 24  # in the database header (page 1)


class NeedsRestore(RuntimeError):
    """The mirror cannot be brought forward from level 0: restore it anew."""


@dataclass
class Polled:
    """One node followed by polling: the supervisor's `Follower` and how far its mirror is."""

    follower: Follower
    txid: int = 0
    restoring: bool = False
    retry_at: float = 0.0
    checked_at: float = 0.0
    changed: bool = False  # applied something since the last ingest pass


def highest_txid(store: ObjectStore, kind: str, prefix: str) -> int:
    """The newest transaction id any level of the replica holds (0: no replica yet)."""
    found = [0]
    for level in range(ltx.SNAPSHOT_LEVEL + 1):
        found += [
            ids[1]
            for key in store.keys(ltx.level_prefix(kind, prefix, level))
            if (ids := ltx.txids(key))
        ]
    return max(found)


def apply(mirror: Path, data: bytes, phases: TurnPhases | None = None) -> int:
    """Write an LTX file's pages into the mirror under SQLite's exclusive lock; its last txid.

    As `litestream restore -f` does: page 1 says rollback journal (not WAL) and gets a new
    change counter so readers drop their cache (also when the file has no page 1, as most WAL
    commits have not: kept readers would read stale pages); the file is cut to its size.
    """
    phases = phases or TurnPhases()
    with phases.timed("decode"):
        head = ltx.header(data)
        written = list(ltx.pages(data))  # decoded before the lock: a bad file changes nothing
    with phases.timed("mirror write"):
        _write_pages(mirror, head, written)
    phases.file_age(head.timestamp_ms)
    return head.max_txid


def _write_pages(mirror: Path, head: ltx.Header, written: list[tuple[int, bytes]]) -> None:
    fd = os.open(mirror, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX, SQLITE_LOCK_SPAN, SQLITE_LOCK_BYTE, os.SEEK_SET)
        for pgno, page in written:
            if pgno == 1:
                page = page[:18] + b"\x01\x01" + page[20:24] + os.urandom(4) + page[28:]
            os.pwrite(fd, page, (pgno - 1) * head.page_size)
        if all(pgno != 1 for pgno, _ in written):  # a WAL commit leaves page 1 as it was
            os.pwrite(fd, os.urandom(4), CHANGE_COUNTER_OFFSET)
        if head.commit:
            os.ftruncate(fd, head.commit * head.page_size)
        # no fsync: a mirror is restored anew after a crash (its txid lives only in memory)
    finally:
        os.close(fd)  # releases the lock


def rollback_journal(mirror: Path) -> None:
    """Mark a freshly restored mirror as a rollback-journal database (its header says WAL), so
    readers never make a -wal beside it: what `apply` does to page 1 each time."""
    with mirror.open("r+b") as file:
        file.seek(18)
        file.write(b"\x01\x01")


def bring_forward(
    store: ObjectStore, kind: str, prefix: str, mirror: Path, txid: int, phases: TurnPhases
) -> int:
    """Apply the level-0 files after `txid` in order (FILES_A_TURN at most; a node further
    behind first catches up from level 1); the txid the mirror reached."""
    level0 = ltx.level_prefix(kind, prefix, 0)
    with phases.timed("list"):
        found = store.keys_after(level0, ltx.after(level0, txid))
    if len(found) > FILES_A_TURN:
        txid = catch_up(store, kind, prefix, mirror, txid, phases)
    return apply_chain(store, found, mirror, txid, FILES_A_TURN, phases)


def catch_up(
    store: ObjectStore, kind: str, prefix: str, mirror: Path, txid: int, phases: TurnPhases
) -> int:
    """Apply level 1's compacted files that go past `txid`: each holds every page its span of
    transactions changed, as of its last one, so one that starts at or before `txid + 1`
    brings the mirror to its end (pages it lacks did not change in the span)."""
    with phases.timed("list level 1"):
        keys = store.keys(ltx.level_prefix(kind, prefix, 1))
    chain, reach = [], txid
    for (low, high), key in sorted((ids, key) for key in keys if (ids := ltx.txids(key))):
        if high <= reach:
            continue
        if low > reach + 1:
            break  # level 1 does not reach back to the mirror (or has a hole): level 0 goes on
        chain.append(key)
        reach = high
    return apply_chain(store, chain, mirror, txid, len(chain), phases)


def apply_chain(
    store: ObjectStore, keys: list[str], mirror: Path, txid: int, most: int, phases: TurnPhases
) -> int:
    """Apply the files of `keys` (sorted by first txid) that go past `txid`, `most` at most and
    only up to a gap, fetched together (GET_THREADS); the txid the mirror reached."""
    chain: list[str] = []
    reach = txid
    for key in keys:
        ids = ltx.txids(key)
        if ids is None or ids[1] <= reach:
            continue
        if len(chain) == most or ids[0] > reach + 1:
            break
        chain.append(key)
        reach = ids[1]
    if not chain and reach < max((ids[1] for k in keys if (ids := ltx.txids(k))), default=0):
        first = next(ids for k in keys if (ids := ltx.txids(k)) and ids[1] > txid)
        raise NeedsRestore(f"level 0 jumps from txid {txid} to {first[0]}")
    for key, data in zip(chain, _getter().map(partial(_get, store, phases), chain), strict=True):
        if data is None:
            raise NeedsRestore(f"{key} vanished (compacted)")
        try:
            txid = apply(mirror, data, phases)
        except ltx.LtxError as exc:
            raise NeedsRestore(f"{key}: {exc}") from exc
    return txid


@cache
def _getter() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(GET_THREADS, thread_name_prefix="ltx-get")


def _get(store: ObjectStore, phases: TurnPhases, key: str) -> bytes | None:
    with phases.timed("get"):
        return store.get(key)


def replica_levels(store: ObjectStore, kind: str, prefix: str) -> dict[int, list[str]]:
    """The LTX file keys of each level of the replica (one listing of the whole replica)."""
    found: dict[int, list[str]] = {}
    keys = store.keys(prefix)
    for level in range(ltx.SNAPSHOT_LEVEL + 1):
        folder = ltx.level_prefix(kind, prefix, level) + "/"
        found[level] = [k for k in keys if k.startswith(folder) and ltx.txids(k) is not None]
    return found


def restore_plan(levels: dict[int, list[str]]) -> tuple[list[str], int]:
    """The fewest files that rebuild the database from nothing, as `litestream restore` plans
    it: from the snapshots down to level 0, at each level the file reaching furthest that
    starts at or before the next txid, while there is one; (keys in order, txid reached)."""
    plan: list[str] = []
    reach = 0
    for level in range(ltx.SNAPSHOT_LEVEL, -1, -1):
        spans = [(ids, key) for key in levels.get(level, []) if (ids := ltx.txids(key))]
        while nexts := [(high, key) for (low, high), key in spans if low <= reach + 1 < high + 1]:
            reach, key = max(nexts)
            plan.append(key)
    return plan, reach


def rebuild(
    store: ObjectStore, kind: str, prefix: str, target: Path, phases: TurnPhases
) -> int | None:
    """Write a new mirror at `target` from the replica's LTX files (fetched together); the txid
    it reached, or None when the files do not chain up to the newest (`litestream restore`)."""
    levels = replica_levels(store, kind, prefix)
    spans = [ids for keys in levels.values() for k in keys if (ids := ltx.txids(k))]
    newest = max((high for _, high in spans), default=0)
    if newest == 0:
        raise NeedsRestore("no replica in the store yet")
    plan, reach = restore_plan(levels)
    if reach < newest:
        return None
    target.touch()
    try:
        reached = apply_chain(store, plan, target, 0, len(plan), phases)
        with closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as conn:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    except (NeedsRestore, sqlite3.Error) as exc:
        verdict, reached = f"{type(exc).__name__}: {exc}", 0
    except BaseException:  # the store gone mid-way: no half-written mirror left behind
        target.unlink(missing_ok=True)
        raise
    if verdict != "ok" or reached != reach:
        log.warning("rebuilding %s from LTX files: %s at txid %d", target, verdict, reached)
        target.unlink(missing_ok=True)
        return None
    return reached


async def restore(
    following: Following,
    store: ObjectStore,
    polled: Polled,
    pool: asyncio.Semaphore,
    phases: TurnPhases | None = None,
) -> None:
    """A new mirror of the node's current generation at the newest txid in the store: rebuilt
    here from the LTX files, else (or with FOLLOW_RESTORE=litestream) by `litestream restore`."""
    follower = polled.follower
    try:
        follower.replica_generation = await asyncio.to_thread(
            generations.current, store, follower.node_id
        )
        prefix = generations.replica_prefix(follower.node_id, follower.replica_generation)
        async with pool:
            target, txid = await _restored(following, store, follower, prefix, phases)
    except (StoreUnavailable, NeedsRestore, OSError) as exc:
        _failed(polled, str(exc))
        return
    finally:
        polled.restoring = False
    old, follower.mirror = follower.mirror, target
    polled.txid, polled.changed = txid, True
    follower.state, follower.last_error, follower.mirror_failures = "following", "", 0
    follower.backoff = 1.0
    if old is not None and old != target:
        old.unlink(missing_ok=True)


async def _restored(
    following: Following,
    store: ObjectStore,
    follower: Follower,
    prefix: str,
    phases: TurnPhases | None,
) -> tuple[Path, int]:
    """(the new mirror, its txid), rebuilt from LTX files or restored by Litestream."""
    kind = following.store.kind
    follower.state = "starting"
    follower.started_at = asyncio.get_running_loop().time()
    if following.restore == "ltx":
        target = _new_target(follower)
        txid = await asyncio.to_thread(rebuild, store, kind, prefix, target, phases or TurnPhases())
        if txid is not None:
            return target, txid
    txid = await asyncio.to_thread(highest_txid, store, kind, prefix)
    if txid == 0:
        raise NeedsRestore("no replica in the store yet")
    target = await _run_restore(following, follower, txid)
    rollback_journal(target)
    return target, txid


def _new_target(follower: Follower) -> Path:
    """A new mirror file name in the node's folder (leftovers of that name removed)."""
    follower.folder.mkdir(parents=True, exist_ok=True)
    follower.generation += 1
    target = follower.folder / f"mirror-{follower.generation}.db"
    for stale in follower.folder.glob(f"{target.name}*"):
        stale.unlink()
    return target


async def _run_restore(following: Following, follower: Follower, txid: int) -> Path:
    config = write_config(following, follower)
    target = _new_target(follower)
    process = await asyncio.create_subprocess_exec(
        litestream_binary(),
        "restore",
        "-config",
        str(config),
        "-txid",
        f"{txid:016x}",
        "-o",
        str(target),
        str((follower.folder / "edge.db").resolve()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=litestream_environ(following.store),
        preexec_fn=die_with_parent,
    )
    follower.pid, follower.state = process.pid, "starting"
    follower.started_at = asyncio.get_running_loop().time()
    output, _ = await process.communicate()
    follower.pid = None
    if process.returncode != 0:
        raise NeedsRestore(f"litestream restore: {output.decode('utf-8', 'replace')[-300:]}")
    return target


def _failed(polled: Polled, error: str) -> None:
    follower = polled.follower
    follower.state, follower.last_error = "backoff", error[-300:]
    follower.restarts += 1
    polled.retry_at = asyncio.get_running_loop().time() + follower.backoff
    follower.backoff = min(follower.backoff * 2, MAX_BACKOFF_SECONDS)
    log.warning("follower %s: %s", follower.node_id, follower.last_error)


RUNNING: set[asyncio.Future[None]] = set()  # restores under way (a reference keeps each)


async def poll(
    following: Following,
    store: ObjectStore,
    polled: Polled,
    pool: asyncio.Semaphore,
    phases: TurnPhases | None = None,
) -> None:
    """One turn for one node: restore when due, else check it when due and apply new files
    (timed into `phases`)."""
    loop = asyncio.get_running_loop()
    follower = polled.follower
    if polled.restoring or loop.time() < polled.retry_at:
        return
    if follower.mirror is None or follower.state != "following":
        polled.restoring = True
        task = asyncio.ensure_future(restore(following, store, polled, pool, phases))
        RUNNING.add(task)
        task.add_done_callback(RUNNING.discard)
        return
    if not polled.checked_at:  # spread the checks over the period, not all in one turn
        polled.checked_at = loop.time() - random.uniform(0, following.check_seconds)
    if loop.time() - polled.checked_at >= following.check_seconds:
        polled.checked_at = loop.time()
        if await needs_new_follower(following, follower, store):
            follower.state = "backoff"  # restored at the next turn
            follower.restarts += 1
            return
    prefix = generations.replica_prefix(follower.node_id, follower.replica_generation)
    try:
        txid = await asyncio.to_thread(
            bring_forward,
            store,
            following.store.kind,
            prefix,
            follower.mirror,
            polled.txid,
            phases or TurnPhases(),
        )
    except StoreUnavailable as exc:
        follower.last_error = str(exc)[-300:]
        return
    except (NeedsRestore, OSError) as exc:
        _failed(polled, f"{type(exc).__name__}: {exc}")
        return
    if txid != polled.txid:
        polled.txid, polled.changed = txid, True
