"""Ingest: copy the rows a node changed since the last pass from its mirror into central.db.

Every replicated edge table (declared in replication/tables.py) carries `rev`, bumped by
trigger from one node-wide counter; for each (node, table) central keeps the highest rev it
has copied. Rows are upserted by key, so a pass repeated after a crash changes nothing. Each
heartbeat's audit chain head (sequence, hash) is kept in `audit_heads`, every one ever seen.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite

from edge.kernel.db import Database
from replication import shipped_batches
from replication.mirror_readers import MirrorReaders
from replication.objectstore import ObjectStore
from replication.tables import TABLES, Changes, ReplicatedTable
from replication.turn_phases import TurnPhases

log = logging.getLogger(__name__)
LAG_SAMPLES_KEPT = 1000


@dataclass
class IngestPass:
    """What one pass over one node copied, per table, and whether a batch limit was hit."""

    copied: dict[str, int] = field(default_factory=dict)
    more: bool = False
    heartbeat_ms: int | None = None

    @property
    def rows(self) -> int:
        """Rows copied in all."""
        return sum(self.copied.values())


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def read_changes(
    conn: sqlite3.Connection,
    watermarks: dict[str, int],
    central_columns: dict[str, list[str]],
    batch: int,
    present: dict[str, set[str]] | None = None,
) -> Changes:
    """Rows after each watermark, read in one snapshot of a read-only mirror connection
    (`present`: the mirror's columns per table, when the caller keeps them)."""
    conn.execute("BEGIN")
    try:
        present = present or {t.name: set(_columns(conn, t.name)) for t in TABLES}
        changes = {}
        for table in TABLES:
            name = table.name
            columns = [c for c in central_columns[name] if c in present[name]]
            if not columns:
                continue  # an edge older than this table
            rows = conn.execute(
                f"SELECT {', '.join(columns)} FROM {name} WHERE rev > ? ORDER BY rev LIMIT ?",
                (watermarks.get(name, 0), batch),
            ).fetchall()
            changes[table] = (columns, rows)
        return changes
    finally:
        conn.execute("COMMIT")


def _read_mirrors(
    mirrors: list[tuple[str, Path]],
    marks: dict[str, dict[str, int]],
    central_columns: dict[str, list[str]],
    batch: int,
    readers: MirrorReaders,
) -> dict[str, Changes]:
    """Each node's changes from its mirror (a node whose mirror cannot be read is left out)."""
    found = {}
    names = [t.name for t in TABLES]
    for node_id, mirror in mirrors:
        try:
            conn = readers.connection(node_id, mirror)
            present = readers.columns(node_id, conn, names)
            found[node_id] = read_changes(
                conn, marks.get(node_id, {}), central_columns, batch, present
            )
        except sqlite3.Error as exc:  # a mirror being replaced, or not yet complete
            log.warning("ingest %s: %s", node_id, exc)
            readers.forget(node_id)
    return found


async def central_columns(db: aiosqlite.Connection) -> dict[str, list[str]]:
    """The edge columns central keeps for each table (its edge_* tables minus node_id)."""
    found = {}
    for table in TABLES:
        async with db.execute(f"PRAGMA table_info({table.central_table})") as cursor:
            names = [row[1] for row in await cursor.fetchall()]
        found[table.name] = [n for n in names if n not in ("node_id", "ingested_ms")]
    return found


async def all_watermarks(db: aiosqlite.Connection) -> dict[str, dict[str, int]]:
    """The highest rev copied per table, per node."""
    found: dict[str, dict[str, int]] = {}
    async with db.execute("SELECT node_id, table_name, rev FROM ingest_watermarks") as cursor:
        for row in await cursor.fetchall():
            found.setdefault(row["node_id"], {})[row["table_name"]] = row["rev"]
    return found


async def _upsert(
    db: aiosqlite.Connection,
    node_id: str,
    table: ReplicatedTable,
    columns: list[str],
    rows: list[tuple[object, ...]],
) -> None:
    names = ", ".join(["node_id", *columns])
    marks = ", ".join("?" * (len(columns) + 1))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != table.key)
    # an insert-only table (the audit log): central keeps the first copy of each row it saw
    conflict = "DO NOTHING" if table.insert_only else f"DO UPDATE SET {updates}"
    await db.executemany(
        f"INSERT INTO {table.central_table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT (node_id, {table.key}) {conflict}",
        [(node_id, *row) for row in rows],
    )
    newest = rows[-1][columns.index("rev")]
    await db.execute(
        """
        INSERT INTO ingest_watermarks (node_id, table_name, rev) VALUES (?, ?, ?)
        ON CONFLICT (node_id, table_name) DO UPDATE SET rev = max(rev, excluded.rev)
        """,
        (node_id, table.name, newest),
    )


async def _record_lag(db: aiosqlite.Connection, node_id: str, now_ms: int) -> int | None:
    async with db.execute(
        "UPDATE edge_heartbeat SET ingested_ms = ? WHERE node_id = ? RETURNING beat_ms",
        (now_ms, node_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    await db.execute(
        "INSERT INTO lag_samples (node_id, beat_ms, ingested_ms) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (node_id, row["beat_ms"], now_ms),
    )
    await db.execute(
        """
        DELETE FROM lag_samples WHERE node_id = ? AND beat_ms < (
            SELECT beat_ms FROM lag_samples WHERE node_id = ?
            ORDER BY beat_ms DESC LIMIT 1 OFFSET ?)
        """,
        (node_id, node_id, LAG_SAMPLES_KEPT - 1),
    )
    return row["beat_ms"]


async def _record_head(db: aiosqlite.Connection, node_id: str, now_ms: int) -> None:
    """Keep the chain head the heartbeat published, unless already seen (edge older: none)."""
    await db.execute(
        """
        INSERT INTO audit_heads (node_id, seq, hash, seen_ms)
        SELECT node_id, audit_seq, audit_hash, ? FROM edge_heartbeat
        WHERE node_id = ? AND audit_seq > 0
        ON CONFLICT DO NOTHING
        """,
        (now_ms, node_id),
    )


async def ingest_nodes(
    db: Database,
    mirrors: list[tuple[str, Path]],
    now_ms: int,
    batch: int = 500,
    columns: dict[str, list[str]] | None = None,
    readers: MirrorReaders | None = None,
    phases: TurnPhases | None = None,
    ship: Callable[[dict[str, Changes]], None] | None = None,
) -> dict[str, IngestPass]:
    """Copy one batch per table of each (node, mirror) into central.db, every node in one
    transaction (one commit, one fsync a pass); what each node's pass copied.

    A loop passes `columns` (central_columns, read once) and keeps `readers` open across
    passes; otherwise they are made here. `ship` (a shard on another machine) is given the
    changes before they are written here (`replication.shipped_batches`).
    """
    phases = phases or TurnPhases()
    own = readers is None
    readers = readers or MirrorReaders()
    try:
        with phases.timed("mirror read"):
            async with db.read() as conn:
                marks = await all_watermarks(conn)
                columns = columns or await central_columns(conn)
            changes = await asyncio.to_thread(
                _read_mirrors, mirrors, marks, columns, batch, readers
            )
    finally:
        if own:
            readers.close()
    if ship is not None:
        with phases.timed("ship"):
            await asyncio.to_thread(ship, changes)
    results = {node_id: IngestPass() for node_id in changes}
    started = time.monotonic()
    async with db.write() as conn:
        for node_id, node_changes in changes.items():
            await _copy(conn, node_id, node_changes, results[node_id], now_ms, batch)
        phases.add("ingest", time.monotonic() - started, len(changes))
        committing = time.monotonic()
    phases.add("commit", time.monotonic() - committing)
    return results


async def ingest_shipped(db: Database, store: ObjectStore, now_ms: int, batch: int) -> int:
    """Apply the batches other machines' shards shipped (in one transaction), then delete
    them from the store; how many were applied."""
    async with db.read() as conn:
        done = await shipped_batches.last_keys(conn)
    keys = await asyncio.to_thread(shipped_batches.waiting, store)
    todo = list(shipped_batches.due(keys, done))
    loaded = []
    for shard, key in todo:
        data = await asyncio.to_thread(store.get, key)
        loaded.append((shard, key, read_batch(key, data)))
    if loaded:
        async with db.write() as conn:
            for shard, key, changes in loaded:
                for node_id, node_changes in changes.items():
                    await _copy(conn, node_id, node_changes, IngestPass(), now_ms, batch)
                await shipped_batches.applied(conn, shard, key)
            done = await shipped_batches.last_keys(conn)
    for key in keys:  # applied now or before (a deletion that failed is tried again)
        if key <= done.get(shipped_batches.shard_of_key(key), ""):
            await asyncio.to_thread(store.delete, key)
    return len(loaded)


def read_batch(key: str, data: bytes | None) -> dict[str, Changes]:
    """A batch's changes; none for a batch gone or unreadable (logged: it is passed over, so
    one damaged object cannot stop its shard; its rows come again when they next change)."""
    if data is None:
        return {}
    try:
        return shipped_batches.unpack(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.error("shipped batch %s cannot be read, passed over: %r", key, exc)
        return {}


async def _copy(
    conn: aiosqlite.Connection,
    node_id: str,
    changes: Changes,
    result: IngestPass,
    now_ms: int,
    batch: int,
) -> None:
    for table, (names, rows) in changes.items():
        if not rows:
            continue
        await _upsert(conn, node_id, table, names, rows)
        result.copied[table.name] = len(rows)
        result.more = result.more or len(rows) == batch
    if "heartbeat" in result.copied:
        result.heartbeat_ms = await _record_lag(conn, node_id, now_ms)
        await _record_head(conn, node_id, now_ms)


async def ingest_node(
    db: Database,
    node_id: str,
    mirror: Path,
    now_ms: int,
    batch: int = 500,
    columns: dict[str, list[str]] | None = None,
) -> IngestPass:
    """Copy one batch per table from the node's mirror into central.db in one transaction."""
    results = await ingest_nodes(db, [(node_id, mirror)], now_ms, batch, columns)
    if node_id not in results:
        raise sqlite3.OperationalError(f"the mirror of {node_id} could not be read")
    return results[node_id]
