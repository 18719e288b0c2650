"""Photos a device sent ahead of its application, found again by the hash of what it sent."""

from __future__ import annotations

import aiosqlite

from edge.applications.lifecycle import Upload


async def staged(
    db: aiosqlite.Connection, account_id: str, sent_hashes: list[str]
) -> dict[str, Upload]:
    """Of `sent_hashes`, those this account's device already sent, with what the node kept."""
    if not sent_hashes:
        return {}
    marks = ",".join("?" * len(sent_hashes))
    async with db.execute(
        "SELECT sent_sha256, sha256, thumb_sha256, width, height, content_type, "
        "thumb_content_type FROM staged_photos "
        f"WHERE account_id = ? AND sent_sha256 IN ({marks})",
        (account_id, *sent_hashes),
    ) as cursor:
        rows = await cursor.fetchall()
    return {
        row["sent_sha256"]: Upload(
            "material",
            "",
            row["sha256"],
            row["thumb_sha256"],
            row["width"],
            row["height"],
            row["content_type"],
            row["thumb_content_type"],
        )
        for row in rows
    }


async def stage(
    db: aiosqlite.Connection, account_id: str, sent_sha256: str, upload: Upload, now: str
) -> None:
    """Remember what a sent photo became; sending it again changes nothing."""
    await db.execute(
        "INSERT OR IGNORE INTO staged_photos (account_id, sent_sha256, sha256, thumb_sha256, "
        "width, height, content_type, thumb_content_type, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account_id,
            sent_sha256,
            upload.sha256,
            upload.thumb_sha256,
            upload.width,
            upload.height,
            upload.content_type,
            upload.thumb_content_type,
            now,
        ),
    )


async def staged_pairs(
    db: aiosqlite.Connection, account_id: str, pairs: list[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    """Of the (photo, thumbnail) hash pairs, those this account staged: what it may attach."""
    if not pairs:
        return frozenset()
    marks = ",".join("(?, ?)" for _pair in pairs)
    async with db.execute(
        f"WITH asked (sha256, thumb_sha256) AS (VALUES {marks}) "
        "SELECT DISTINCT s.sha256, s.thumb_sha256 FROM staged_photos AS s "
        "JOIN asked USING (sha256, thumb_sha256) WHERE s.account_id = ?",
        (*(sha for pair in pairs for sha in pair), account_id),
    ) as cursor:
        return frozenset((row["sha256"], row["thumb_sha256"]) for row in await cursor.fetchall())


async def receive(db: aiosqlite.Connection, account_id: str, sent_sha256: str, now: str) -> None:
    """Remember that this account's device sent a photo not yet re-encoded; again: no change."""
    await db.execute(
        "INSERT OR IGNORE INTO received_photos (account_id, sent_sha256, created_at) "
        "VALUES (?, ?, ?)",
        (account_id, sent_sha256, now),
    )


async def received(db: aiosqlite.Connection, account_id: str, sent_hashes: list[str]) -> set[str]:
    """Of `sent_hashes`, those this account's device sent that wait for their re-encode."""
    if not sent_hashes:
        return set()
    marks = ",".join("?" * len(sent_hashes))
    async with db.execute(
        "SELECT sent_sha256 FROM received_photos "
        f"WHERE account_id = ? AND sent_sha256 IN ({marks})",
        (account_id, *sent_hashes),
    ) as cursor:
        return {row["sent_sha256"] for row in await cursor.fetchall()}


async def settle_received(
    db: aiosqlite.Connection, account_id: str, sent_sha256: str, upload: Upload, now: str
) -> bool:
    """Stage what a received photo became and forget it as received; whether any account's
    device still waits on the same bytes (then their file stays)."""
    await stage(db, account_id, sent_sha256, upload, now)
    await db.execute(
        "DELETE FROM received_photos WHERE account_id = ? AND sent_sha256 = ?",
        (account_id, sent_sha256),
    )
    async with db.execute(
        "SELECT 1 FROM received_photos WHERE sent_sha256 = ? LIMIT 1", (sent_sha256,)
    ) as cursor:
        return await cursor.fetchone() is not None
