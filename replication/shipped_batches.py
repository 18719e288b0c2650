"""Ingest batches a follow shard on another machine ships through the store, so central.db keeps
one writer: the shard reads its nodes' changes from its own mirrors and puts them, one object a
pass, under `central/batches/<shard>/`; central's first shard applies them in key order in its
ingest transaction, remembers the last key per shard (`shipped_batches`) and deletes them."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator

import aiosqlite

from replication.objectstore import ObjectStore
from replication.tables import TABLES, Changes

log = logging.getLogger(__name__)
PREFIX = "central/batches"
BATCHES_A_PASS = 50  # applied per pass: a long backlog cannot hold one transaction for long
_TABLES = {table.name: table for table in TABLES}
_sequence = iter(range(1 << 62))


def shard_name(shard: tuple[int, int]) -> str:
    """The folder of a shard's batches: `1-of-2`."""
    return f"{shard[0]}-of-{shard[1]}"


def _value(value: object) -> object:
    return {"b64": base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value


def _restored(value: object) -> object:
    return base64.b64decode(value["b64"]) if isinstance(value, dict) else value


def pack(changes: dict[str, Changes]) -> bytes:
    """A pass's changes of every node as JSON (BLOBs in base64)."""
    nodes = {
        node_id: {
            table.name: {"columns": columns, "rows": [[_value(v) for v in row] for row in rows]}
            for table, (columns, rows) in node_changes.items()
            if rows
        }
        for node_id, node_changes in changes.items()
    }
    return json.dumps({"nodes": nodes}, ensure_ascii=False).encode("utf-8")


def unpack(data: bytes) -> dict[str, Changes]:
    """The changes `pack` wrote (tables this central does not know are left out)."""
    found: dict[str, Changes] = {}
    for node_id, tables in json.loads(data)["nodes"].items():
        found[node_id] = {
            _TABLES[name]: (
                list(table["columns"]),
                [tuple(_restored(v) for v in row) for row in table["rows"]],
            )
            for name, table in tables.items()
            if name in _TABLES
        }
    return found


def ship(store: ObjectStore, shard: tuple[int, int], changes: dict[str, Changes]) -> None:
    """Put one pass's changes in the store (nothing when no row changed); before the shard's
    own watermarks move, so a crash in between ships the rows again (applying is idempotent)."""
    if not any(rows for node in changes.values() for _, rows in node.values()):
        return
    key = f"{PREFIX}/{shard_name(shard)}/{time.time_ns():020d}-{next(_sequence):06d}.json"
    store.put(key, pack(changes), "application/json")


def waiting(store: ObjectStore) -> list[str]:
    """Every batch key in the store, oldest first within each shard."""
    return sorted(store.keys(PREFIX))


async def last_keys(db: aiosqlite.Connection) -> dict[str, str]:
    """The last batch key central applied, per shard folder."""
    async with db.execute("SELECT shard, last_key FROM shipped_batches") as cursor:
        return {row["shard"]: row["last_key"] for row in await cursor.fetchall()}


def shard_of_key(key: str) -> str:
    """The shard folder a batch key lies in."""
    return key.removeprefix(PREFIX + "/").split("/", 1)[0]


def due(keys: list[str], applied: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(shard folder, key) of the batches not yet applied, in order, BATCHES_A_PASS at most."""
    count = 0
    for key in keys:
        shard = shard_of_key(key)
        if key <= applied.get(shard, ""):
            continue
        if count == BATCHES_A_PASS:
            return
        count += 1
        yield shard, key


async def applied(db: aiosqlite.Connection, shard: str, key: str) -> None:
    """Remember, in the applying transaction, that `key` of `shard` is in central.db."""
    await db.execute(
        "INSERT INTO shipped_batches (shard, last_key) VALUES (?, ?) "
        "ON CONFLICT (shard) DO UPDATE SET last_key = max(last_key, excluded.last_key)",
        (shard, key),
    )
