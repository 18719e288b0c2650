"""SQL for `peer_townships`: keep central's newest list whole; the addresses by township."""

from __future__ import annotations

import aiosqlite

from replication.feed.commands import Townships


async def keep(db: aiosqlite.Connection, townships: Townships, now: str) -> None:
    """Replace the list with central's (in the caller's transaction)."""
    await db.execute("DELETE FROM peer_townships")
    await db.executemany(
        "INSERT INTO peer_townships (township_code, node_id, name_zh, name_en, base_url, "
        "received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (township_code) DO UPDATE SET "
        "node_id = excluded.node_id, name_zh = excluded.name_zh, name_en = excluded.name_en, "
        "base_url = excluded.base_url, received_at = excluded.received_at",
        [
            (t.township_code, t.node_id, t.name_zh, t.name_en, t.base_url, now)
            for t in townships.townships
        ],
    )


async def addresses(db: aiosqlite.Connection) -> dict[str, str]:
    """Each known township's public base URL, by township code."""
    async with db.execute("SELECT township_code, base_url FROM peer_townships") as cursor:
        return {row["township_code"]: row["base_url"] for row in await cursor.fetchall()}
