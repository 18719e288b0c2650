"""What a follow shard on another machine knows of its nodes' followers and audit checks, put
in the store every few seconds (`central/followers/<shard>.json`) and copied into central.db by
central's shard 0, so /nodes shows every node's follower, lag and audit state whichever
machine follows it."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiosqlite

from edge.kernel.db import Database
from replication.objectstore import ObjectStore
from replication.shipped_batches import shard_name

log = logging.getLogger(__name__)
PREFIX = "central/followers"
SHIP_SECONDS = 5.0  # how often a shard puts its rows, and central's shard 0 reads them
TABLES = ("followers", "audit_checks")  # keyed by node_id, written by the follow process
LOCAL_ONLY = {"followers": {"mirror_path"}}  # meaningless on another machine: not shipped


def key(shard: tuple[int, int]) -> str:
    """The one object a shard overwrites with its rows."""
    return f"{PREFIX}/{shard_name(shard)}.json"


async def collect(db: Database, node_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of `TABLES` for the shard's nodes, from the shard's own database."""
    marks = ",".join("?" * len(node_ids))
    found: dict[str, list[dict[str, Any]]] = {}
    async with db.read() as conn:
        for table in TABLES:
            async with conn.execute(
                f"SELECT * FROM {table} WHERE node_id IN ({marks})", node_ids
            ) as cursor:
                rows = [dict(row) for row in await cursor.fetchall()]
            for row in rows:
                for column in LOCAL_ONLY.get(table, set()):
                    row.pop(column, None)
            found[table] = rows
    return found


def put(store: ObjectStore, shard: tuple[int, int], rows: dict[str, list[dict[str, Any]]]) -> None:
    """Overwrite the shard's object with its rows."""
    data = json.dumps({"shard": shard_name(shard), "tables": rows}, ensure_ascii=False)
    store.put(key(shard), data.encode("utf-8"), "application/json")


def read(store: ObjectStore, object_key: str) -> dict[str, list[dict[str, Any]]]:
    """The rows one shard put (nothing from a damaged or vanished object)."""
    data = store.get(object_key)
    try:
        tables = json.loads(data)["tables"] if data is not None else {}
        return {t: [dict(row) for row in tables.get(t, [])] for t in TABLES}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("follower states %s unreadable: %s", object_key, exc)
        return {}


async def copy_in(conn: aiosqlite.Connection, rows: dict[str, list[dict[str, Any]]]) -> int:
    """Upsert the shipped rows into central.db's tables (columns this central knows, nodes it
    registered); how many rows landed."""
    landed = 0
    for table, table_rows in rows.items():
        async with conn.execute(f"PRAGMA table_info({table})") as cursor:
            known = {row[1] for row in await cursor.fetchall()}
        for row in table_rows:
            columns = [c for c in row if c in known]
            if "node_id" not in columns:
                continue
            updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "node_id")
            cursor = await conn.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join('?' * len(columns))} "
                "WHERE EXISTS (SELECT 1 FROM nodes WHERE node_id = ?) "
                f"ON CONFLICT (node_id) DO UPDATE SET {updates}",
                [*(row[c] for c in columns), row["node_id"]],
            )
            landed += cursor.rowcount
    return landed


def read_all(store: ObjectStore) -> list[dict[str, list[dict[str, Any]]]]:
    """The rows every shard put."""
    return [read(store, k) for k in store.keys(PREFIX) if k.endswith(".json")]


async def receive(db: Database, store: ObjectStore) -> int:
    """Copy every other machine's shipped rows into central.db; how many rows landed."""
    shipped = await asyncio.to_thread(read_all, store)
    landed = 0
    if any(shipped):
        async with db.write() as conn:
            for rows in shipped:
                landed += await copy_in(conn, rows)
    return landed


async def send(db: Database, store: ObjectStore, shard: tuple[int, int], nodes: list[str]) -> None:
    """Put this shard's rows of its nodes in the store."""
    rows = await collect(db, nodes)
    await asyncio.to_thread(put, store, shard, rows)
