"""SQL for central's news: its own city-wide posts and the townships' ingested posts."""

from __future__ import annotations

import aiosqlite


async def create(
    db: aiosqlite.Connection, news_id: str, title: str, body: str, by: str, now: str
) -> None:
    """A city-wide post as central keeps it."""
    await db.execute(
        "INSERT INTO city_news (id, title, body, created_by, published_at) VALUES (?, ?, ?, ?, ?)",
        (news_id, title, body, by, now),
    )


async def latest(db: aiosqlite.Connection, limit: int = 40) -> list[aiosqlite.Row]:
    """City posts and every township's and village's, newest first."""
    async with db.execute(
        """
        SELECT id, title, body, published_at, 'city' AS scope, NULL AS place_zh,
               NULL AS place_en FROM city_news
        UNION ALL
        SELECT n.id, n.title, n.body, n.published_at, n.scope, j.name_zh, j.name_en
        FROM edge_news n LEFT JOIN jurisdictions j ON j.code = n.scope_code
        WHERE n.origin = 'township'
        ORDER BY published_at DESC LIMIT ?
        """,
        (limit,),
    ) as cursor:
        return list(await cursor.fetchall())
