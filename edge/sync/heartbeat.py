"""The heartbeat row: rewritten every few seconds, so central can measure replication lag."""

from __future__ import annotations

import aiosqlite


async def beat(db: aiosqlite.Connection, now_ms: int) -> None:
    """Record that the node is alive now (milliseconds since the epoch)."""
    await db.execute(
        """
        INSERT INTO heartbeat (id, beat_ms) VALUES (1, ?)
        ON CONFLICT (id) DO UPDATE SET beat_ms = excluded.beat_ms
        """,
        (now_ms,),
    )


async def feed_pulled(db: aiosqlite.Connection, now_ms: int, error: str) -> None:
    """Record the outcome of a feed pull: when it last succeeded, or the error of this one."""
    if error:
        await db.execute("UPDATE heartbeat SET feed_error = ? WHERE id = 1", (error[:200],))
    else:
        await db.execute(
            "UPDATE heartbeat SET feed_pulled_ms = ?, feed_error = '' WHERE id = 1", (now_ms,)
        )
