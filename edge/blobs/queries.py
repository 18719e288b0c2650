"""SQL for the `blobs` table: the record that this node holds a content-addressed file."""

from __future__ import annotations

import aiosqlite

from edge.kernel import outbox
from replication.blob_upload import BLOB_UPLOAD


async def record(
    db: aiosqlite.Connection, sha256: str, content_type: str, size: int, now: str
) -> None:
    """Note that we hold blob `sha256`, due for upload now; recording it again changes nothing."""
    row = {"sha256": sha256, "content_type": content_type, "bytes": size, "created_at": now}
    await outbox.enqueue(db, BLOB_UPLOAD, row, due=now)
