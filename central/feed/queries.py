"""SQL for the `commands` table: append a command for a node, read a node's page after a cursor."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite
from ulid import ULID

from replication.feed.commands import Command, encode
from replication.identity import MAX_SKEW_SECONDS


async def append(
    db: aiosqlite.Connection,
    node_id: str,
    command: Command,
    now: str,
    *,
    created_by: str | None = None,
    application_id: str | None = None,
    step_id: str | None = None,
) -> str:
    """Add a command to the node's feed (in the caller's transaction); return its id."""
    command_id = str(ULID())
    await db.execute(
        """
        INSERT INTO commands (id, node_id, kind, payload, created_at, created_by,
            application_id, step_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            command_id,
            node_id,
            command.kind,
            encode(command),
            now,
            created_by,
            application_id,
            step_id,
        ),
    )
    return command_id


async def page(
    db: aiosqlite.Connection, node_id: str, after: int, limit: int
) -> list[dict[str, Any]]:
    """The node's commands with seq > `after`, oldest first, at most `limit`."""
    async with db.execute(
        """
        SELECT seq, id, kind, payload, created_at FROM commands
        WHERE node_id = ? AND seq > ? ORDER BY seq LIMIT ?
        """,
        (node_id, after, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        {
            "seq": row["seq"],
            "id": row["id"],
            "kind": row["kind"],
            "payload": json.loads(row["payload"]),
            "created_at": row["created_at"],
        }
        for row in rows
    ]


async def first_use(db: aiosqlite.Connection, node_id: str, nonce: str, now: int) -> bool:
    """Record a signed request's nonce (in the caller's write transaction); False if it was
    seen before. Nonces older than the signature window are forgotten: their requests fail
    the time check anyway."""
    await db.execute("DELETE FROM feed_nonces WHERE seen_at < ?", (now - 2 * MAX_SKEW_SECONDS,))
    cursor = await db.execute(
        "INSERT OR IGNORE INTO feed_nonces (node_id, nonce, seen_at) VALUES (?, ?, ?)",
        (node_id, nonce, now),
    )
    return cursor.rowcount == 1
