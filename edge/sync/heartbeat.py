"""The heartbeat row: rewritten every few seconds, so central can measure replication lag; it
carries the audit chain's head (sequence and hash), which central keeps as its anchor."""

from __future__ import annotations

import aiosqlite


async def beat(db: aiosqlite.Connection, now_ms: int) -> None:
    """Record that the node is alive now (milliseconds since the epoch) and its chain's head."""
    await db.execute(
        """
        INSERT INTO heartbeat (id, beat_ms, audit_seq, audit_hash)
        SELECT 1, ?, coalesce(max(seq), 0), coalesce(
            (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '') FROM audit_log
        WHERE true
        ON CONFLICT (id) DO UPDATE SET beat_ms = excluded.beat_ms,
            audit_seq = excluded.audit_seq, audit_hash = excluded.audit_hash
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
