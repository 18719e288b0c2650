"""SQL for the `blobs` table: the record that this node holds a content-addressed file."""

from __future__ import annotations

import aiosqlite


async def record(
    db: aiosqlite.Connection, sha256: str, content_type: str, size: int, now: str
) -> None:
    """Note that we hold blob `sha256`; recording it again changes nothing."""
    await db.execute(
        """
        INSERT INTO blobs (sha256, content_type, bytes, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (sha256) DO NOTHING
        """,
        (sha256, content_type, size, now),
    )
