"""SQL for village affairs: write a disclosure with its finance lines, move it through review,
read the published ones of a village, the township's review queue and an author's own."""

from __future__ import annotations

from typing import Any

import aiosqlite
from ulid import ULID

from edge.affairs.records import Line


async def create(
    db: aiosqlite.Connection,
    values: dict[str, Any],
    lines: list[Line],
    status: str,
    by: str,
    now: str,
) -> str:
    """A new disclosure (draft or pending) with its lines; returns its id."""
    affair_id = str(ULID())
    await db.execute(
        """
        INSERT INTO affairs (id, village_code, kind, period, title, body, income_total_fen,
            spending_total_fen, status, created_by, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            affair_id,
            values["village"],
            values["kind"],
            values["period"],
            values["title"],
            values["body"],
            values.get("income_total_fen"),
            values.get("spending_total_fen"),
            status,
            by,
            now,
            now,
        ),
    )
    await db.executemany(
        """
        INSERT INTO affair_lines (id, affair_id, position, direction, label, amount_fen)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        [
            (str(ULID()), affair_id, index, line.direction, line.label, line.amount_fen)
            for index, line in enumerate(lines)
        ],
    )
    return affair_id


async def get(db: aiosqlite.Connection, affair_id: str) -> aiosqlite.Row | None:
    """One disclosure with its village's name."""
    async with db.execute(
        """
        SELECT a.*, j.name_zh AS village_zh, j.name_en AS village_en
        FROM affairs a JOIN jurisdictions j ON j.code = a.village_code WHERE a.id = ?
        """,
        (affair_id,),
    ) as cursor:
        return await cursor.fetchone()


async def lines(db: aiosqlite.Connection, affair_id: str) -> list[Line]:
    """A finance disclosure's lines, in the order written."""
    async with db.execute(
        "SELECT direction, label, amount_fen FROM affair_lines WHERE affair_id = ? "
        "ORDER BY position",
        (affair_id,),
    ) as cursor:
        return [Line(r["direction"], r["label"], r["amount_fen"]) for r in await cursor.fetchall()]


async def published(
    db: aiosqlite.Connection, village_code: str, limit: int = 60
) -> list[aiosqlite.Row]:
    """A village's published disclosures, newest first."""
    async with db.execute(
        """
        SELECT id, kind, period, title, published_at FROM affairs
        WHERE village_code = ? AND status = 'published'
        ORDER BY published_at DESC LIMIT ?
        """,
        (village_code, limit),
    ) as cursor:
        return list(await cursor.fetchall())


async def waiting(db: aiosqlite.Connection, prefix: str) -> list[aiosqlite.Row]:
    """Disclosures waiting for the township's review, oldest first."""
    async with db.execute(
        """
        SELECT a.id, a.kind, a.period, a.title, a.updated_at, j.name_zh AS village_zh,
               j.name_en AS village_en
        FROM affairs a JOIN jurisdictions j ON j.code = a.village_code
        WHERE a.status = 'pending' AND a.village_code LIKE ? || '%'
        ORDER BY a.updated_at
        """,
        (prefix,),
    ) as cursor:
        return list(await cursor.fetchall())


async def written_by(db: aiosqlite.Connection, account_id: str) -> list[aiosqlite.Row]:
    """What an account wrote (drafts, waiting, returned, published), newest first."""
    async with db.execute(
        """
        SELECT a.id, a.kind, a.period, a.title, a.status, a.return_reason, a.updated_at,
               j.name_zh AS village_zh, j.name_en AS village_en
        FROM affairs a JOIN jurisdictions j ON j.code = a.village_code
        WHERE a.created_by = ? ORDER BY a.updated_at DESC LIMIT 100
        """,
        (account_id,),
    ) as cursor:
        return list(await cursor.fetchall())


async def submit(db: aiosqlite.Connection, affair_id: str, now: str) -> bool:
    """A draft goes to review; False if it was not a draft."""
    cursor = await db.execute(
        "UPDATE affairs SET status = 'pending', updated_at = ? WHERE id = ? AND status = 'draft'",
        (now, affair_id),
    )
    return cursor.rowcount == 1


async def review(
    db: aiosqlite.Connection, affair_id: str, approve: bool, reason: str, by: str, now: str
) -> bool:
    """Publish or return a waiting disclosure; False if it was not waiting."""
    cursor = await db.execute(
        """
        UPDATE affairs SET status = :status, return_reason = :reason, reviewed_by = :by,
            reviewed_at = :now, updated_at = :now,
            published_at = CASE WHEN :status = 'published' THEN :now END
        WHERE id = :id AND status = 'pending'
        """,
        {
            "status": "published" if approve else "returned",
            "reason": "" if approve else reason,
            "by": by,
            "now": now,
            "id": affair_id,
        },
    )
    return cursor.rowcount == 1
