"""One supervised `litestream restore -f` follower per edge node, mirroring its database.

A follower restores the node's current replica generation (the store's pointer) into a fresh
mirror file and keeps applying new changes to it; central opens the mirror read-only. When a
follower dies it is restarted with a growing backoff into a new mirror file (Litestream cannot
always resume one). While it follows, the supervisor runs `quick_check` on the mirror and asks
the store for the pointer every CHECK_SECONDS: a mirror that fails twice in a row, or a node
that moved to a new generation, gets a new follower at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from replication import generations
from replication.litestream import die_with_parent, litestream_binary, litestream_environ, replica
from replication.objectstore import ObjectStore, StoreUnavailable, open_store
from replication.store_config import StoreConfig

log = logging.getLogger(__name__)

FOLLOWING_MARK = "entering follow mode"
MAX_BACKOFF_SECONDS = 60.0
STABLE_SECONDS = 60.0
CHECK_SECONDS = 10.0


@dataclass(frozen=True)
class Following:
    """Where every follower restores from, how often it asks the store for changes, and how
    often the supervisor checks each mirror and the node's generation; how the polling design
    makes a new mirror (`ltx`: from the store's LTX files itself, `litestream`: restore)."""

    store: StoreConfig
    interval_ms: int
    check_seconds: float = CHECK_SECONDS
    restore: str = "ltx"


@dataclass
class Follower:
    """The supervisor's view of one node's follower."""

    node_id: str
    folder: Path
    state: str = "starting"
    restarts: int = 0
    generation: int = 0  # mirrors started so far (mirror-<n>.db)
    replica_generation: int = generations.FIRST
    mirror_state: str = "unchecked"  # ok, or corrupt after two failed quick_checks in a row
    mirror_failures: int = 0
    mirror_good_at: float | None = None  # loop time of the last passed quick_check
    pid: int | None = None
    started_at: float = 0.0
    mirror: Path | None = None
    last_error: str = ""
    backoff: float = 1.0
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    def rss_kb(self) -> int | None:
        """The follower's resident memory, from /proc."""
        if self.pid is None:
            return None
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None


def write_config(following: Following, follower: Follower) -> Path:
    """The follower's Litestream config (the db path only names the replica)."""
    follower.folder.mkdir(parents=True, exist_ok=True)
    path = follower.folder / "litestream.yml"
    entry = {
        "path": str((follower.folder / "edge.db").resolve()),
        "replica": replica(
            following.store, follower.node_id, following.interval_ms, follower.replica_generation
        ),
    }
    path.write_text(json.dumps({"dbs": [entry]}, indent=2), encoding="utf-8")
    return path


def _clear_mirrors(folder: Path, keep: Path | None) -> None:
    for old in folder.glob("mirror-*"):
        if keep is None or not old.name.startswith(keep.name):
            old.unlink(missing_ok=True)


async def start(following: Following, follower: Follower) -> Path:
    """Start the node's follower on its current replica generation, into a new mirror file."""
    with contextlib.suppress(StoreUnavailable):  # the store down: the follower will say so
        follower.replica_generation = await asyncio.to_thread(
            generations.current, open_store(following.store), follower.node_id
        )
    follower.mirror_failures = 0
    config = write_config(following, follower)
    follower.generation += 1
    target = follower.folder / f"mirror-{follower.generation}.db"
    _clear_mirrors(follower.folder, follower.mirror)
    follower.process = await asyncio.create_subprocess_exec(
        litestream_binary(),
        "restore",
        "-config",
        str(config),
        "-f",
        "-follow-interval",
        f"{following.interval_ms}ms",
        "-o",
        str(target),
        str((follower.folder / "edge.db").resolve()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=litestream_environ(following.store),
        preexec_fn=die_with_parent,
    )
    follower.pid = follower.process.pid
    follower.state = "starting"
    follower.started_at = asyncio.get_running_loop().time()
    return target


async def _watch(follower: Follower, target: Path) -> None:
    """Read the follower's output: mark it following, keep its last error, note its exit."""
    process = follower.process
    assert process is not None and process.stdout is not None
    async for raw in process.stdout:
        line = raw.decode("utf-8", "replace").strip()
        log.debug("follower %s: %s", follower.node_id, line)
        if FOLLOWING_MARK in line:
            follower.state = "following"
            follower.mirror = target
            follower.last_error = ""
            _clear_mirrors(follower.folder, target)
        elif "level=ERROR" in line or line.startswith("Error"):
            follower.last_error = line[-300:]
    code = await process.wait()
    follower.state = "backoff"
    follower.pid = None
    follower.mirror = None if follower.mirror == target else follower.mirror
    if not follower.last_error:
        follower.last_error = f"exited with status {code}"
    log.warning("follower %s exited (%s): %s", follower.node_id, code, follower.last_error)


async def keep_running(following: Following, follower: Follower, stop: asyncio.Event) -> None:
    """Start the follower, and restart it with backoff whenever it exits, until `stop`."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        watcher = asyncio.ensure_future(_watch(follower, await start(following, follower)))
        stopper = asyncio.ensure_future(stop.wait())
        while not (watcher.done() or stop.is_set()):
            await asyncio.wait({watcher, stopper}, timeout=following.check_seconds)
            if not (watcher.done() or stop.is_set()) and await needs_new_follower(
                following, follower
            ):
                await terminate(follower)
                follower.backoff = 0.5  # doubled below: a new follower in about a second
        if stop.is_set():
            await terminate(follower)
            await watcher
            follower.state = "stopped"
            return
        stopper.cancel()
        ran = loop.time() - follower.started_at
        doubled = min(follower.backoff * 2, MAX_BACKOFF_SECONDS)
        follower.backoff = 1.0 if ran > STABLE_SECONDS else doubled
        follower.restarts += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), follower.backoff)


def quick_check(mirror: Path) -> str:
    """`ok`, or what SQLite's quick_check (or opening the file) found wrong with the mirror."""
    try:
        with closing(sqlite3.connect(f"file:{mirror}?mode=ro", uri=True, timeout=5)) as conn:
            return str(conn.execute("PRAGMA quick_check").fetchone()[0])
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"


async def needs_new_follower(
    following: Following, follower: Follower, store: ObjectStore | None = None
) -> bool:
    """Check a following mirror and the node's generation: whether to start a new follower."""
    loop = asyncio.get_running_loop()
    if follower.state == "following" and follower.mirror is not None:
        found = await asyncio.to_thread(quick_check, follower.mirror)
        if found == "ok":
            follower.mirror_failures = 0
            follower.mirror_state = "ok"
            follower.mirror_good_at = loop.time()
        else:
            follower.mirror_failures += 1
            if follower.mirror_failures >= 2:  # one failure may be a page being applied
                follower.mirror_state = "corrupt"
                follower.last_error = f"mirror fails quick_check: {found[:200]}"
                log.error("follower %s: %s", follower.node_id, follower.last_error)
                return True
    try:
        current = await asyncio.to_thread(
            generations.current, store or open_store(following.store), follower.node_id
        )
    except StoreUnavailable:
        return False
    if current != follower.replica_generation:
        log.info("node %s moved to replica generation %d", follower.node_id, current)
        return True
    return False


async def terminate(follower: Follower) -> None:
    """Stop the follower: SIGTERM, then SIGKILL after 5 s."""
    process = follower.process
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()
    follower.state = "stopped"
