"""The replicate process of an edge node: it runs `litestream replicate` as its child, drills
the replica (a full restore with an integrity check) every minute, records what it found in
`replica_health`, and heals a replica that no longer restores by writing a new generation.

Healing: the child stops, Litestream's local state is reset, and the child starts on a new,
empty generation (a full snapshot of the live database first). The store's pointer names the
new generation only once a drill restored it clean; the old generation is kept.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import closing
from dataclasses import dataclass

from edge.kernel.db import connect_sync
from replication import generations
from replication.drill import Drill, drill
from replication.litestream import (
    die_with_parent,
    litestream_binary,
    litestream_environ,
    write_config,
)
from replication.objectstore import StoreUnavailable, open_store
from replication.replicated_node import ReplicatedNode

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Replica:
    """What the replicate process knows: the generation written, and whether it is verified."""

    generation: int
    verified: bool


def read_health(node: ReplicatedNode) -> sqlite3.Row:
    """The node's replica_health row."""
    with closing(connect_sync(node.database_path)) as conn:
        row = conn.execute("SELECT * FROM replica_health WHERE id = 1").fetchone()
    assert row is not None  # migration 0009 inserts it
    return row


def record(node: ReplicatedNode, generation: int, state: str, found: Drill | None) -> None:
    """Write what the last drill found (and the generation being written) to replica_health;
    without a drill, the state changes and the last finding stays."""
    now_ms = int(time.time() * 1000)
    good = found is not None and found.ok
    with closing(connect_sync(node.database_path)) as conn:
        conn.execute(
            """
            UPDATE replica_health SET generation = ?, state = ?,
                checked_ms = coalesce(?, checked_ms),
                good_ms = CASE WHEN ? THEN ? ELSE good_ms END,
                good_txid = CASE WHEN ? THEN ? ELSE good_txid END,
                error = coalesce(?, error)
            WHERE id = 1
            """,
            (
                generation,
                state,
                now_ms if found is not None else None,
                good,
                now_ms,
                good,
                found.txid if found is not None else None,
                found.detail if found is not None else None,
            ),
        )


def start_child(node: ReplicatedNode, generation: int) -> subprocess.Popen[bytes]:
    """Start `litestream replicate` on `generation`; it dies with this process."""
    config = write_config(node, generation)
    binary = litestream_binary()
    log.info("replicating %s to generation %d", node.node_id, generation)
    return subprocess.Popen(
        [binary, "replicate", "-config", str(config)],
        env=litestream_environ(node.store),
        preexec_fn=die_with_parent,
    )


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Litestream flushes what it has), SIGKILL after 10 s."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def reset_local_state(node: ReplicatedNode, generation: int) -> None:
    """Forget Litestream's local LTX files, so the next start writes a full snapshot."""
    config = write_config(node, generation)
    subprocess.run(
        [litestream_binary(), "reset", "-config", str(config), str(node.database_path.resolve())],
        env=litestream_environ(node.store),
        capture_output=True,
        timeout=60,
        check=False,
    )


def starting_replica(node: ReplicatedNode) -> Replica:
    """The generation to write at start: the one replica_health names (a restore or a heal may
    have started a new one), verified when the store's pointer already names it."""
    row = read_health(node)
    try:
        published = generations.current(open_store(node.store), node.node_id)
    except StoreUnavailable:
        published = row["generation"]
    return Replica(row["generation"], published == row["generation"])


class Replicator:
    """The loop: keep the child running, drill every `drill_seconds`, heal on corruption."""

    def __init__(self, node: ReplicatedNode, stop: threading.Event) -> None:
        self.node = node
        self.interval = float(node.drill_seconds)
        self.stop = stop
        self.replica = starting_replica(node)
        self.child: subprocess.Popen[bytes] | None = None
        self.backoff = 1.0

    def run(self) -> None:
        """Until `stop`: replicate, drill, heal."""
        if self.replica.generation != generations.FIRST and not self.replica.verified:
            reset_local_state(self.node, self.replica.generation)
        self.child = start_child(self.node, self.replica.generation)
        next_drill = time.monotonic() + self.interval
        try:
            while not self.stop.wait(min(1.0, max(0.0, next_drill - time.monotonic()))):
                self.keep_child()
                if time.monotonic() >= next_drill:
                    self.drill_once()
                    next_drill = time.monotonic() + self.interval
        finally:
            if self.child is not None:
                stop_child(self.child)

    def keep_child(self) -> None:
        """Restart the child, with a growing pause, if it exited."""
        assert self.child is not None
        if self.child.poll() is None:
            return
        log.warning("litestream exited with %s; restarting", self.child.returncode)
        self.stop.wait(self.backoff)
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        self.child = start_child(self.node, self.replica.generation)

    def drill_once(self) -> Drill:
        """One drill of the generation being written; record it; heal when it is corrupt."""
        found = drill(self.node, self.replica.generation)
        if found.outcome == "corrupt":
            found = drill(self.node, self.replica.generation)  # a second look before healing
        if found.ok:
            self.backoff = 1.0
            self.verify(found)
        elif found.outcome == "corrupt":
            log.error(
                "replica generation %d does not restore: %s", self.replica.generation, found.detail
            )
            record(self.node, self.replica.generation, "corrupt", found)
            self.heal()
        else:
            log.warning("restore drill could not run: %s", found.detail)
            state = "healing" if not self.replica.verified else "unreachable"
            record(self.node, self.replica.generation, state, found)
        return found

    def verify(self, found: Drill) -> None:
        """A clean drill: publish the generation if it is new; record it good."""
        if not self.replica.verified:
            try:
                generations.publish(
                    open_store(self.node.store),
                    self.node.node_id,
                    self.replica.generation,
                    int(time.time() * 1000),
                )
            except StoreUnavailable as exc:
                record(
                    self.node,
                    self.replica.generation,
                    "healing",
                    Drill("unreachable", None, str(exc)),
                )
                return
            self.replica.verified = True
            log.info("replica generation %d verified", self.replica.generation)
        record(self.node, self.replica.generation, "ok", found)

    def heal(self) -> None:
        """Stop the child, start a new generation from a full snapshot of the live database."""
        assert self.child is not None
        stop_child(self.child)
        store = open_store(self.node.store)
        generation = generations.unused(store, self.node.node_id, self.replica.generation)
        reset_local_state(self.node, generation)
        self.replica = Replica(generation, verified=False)
        record(self.node, generation, "healing", None)
        self.child = start_child(self.node, generation)


def run(node: ReplicatedNode) -> None:
    """The replicate process until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Replicator(node, stop).run()
