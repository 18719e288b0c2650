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
