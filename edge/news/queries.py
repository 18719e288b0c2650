"""SQL for news posts: the newest for a village, one post, writes and central's copies."""

from __future__ import annotations

import aiosqlite
from ulid import ULID

from replication.feed.commands import CityNews


async def latest(
    db: aiosqlite.Connection, village_code: str | None, limit: int = 30
) -> list[aiosqlite.Row]:
    """City and township posts, and the village's own when one is chosen; newest first."""
    async with db.execute(
        """
        SELECT n.id, n.scope, n.scope_code, n.title, n.body, n.published_at,
               n.photo_sha256 IS NOT NULL AS has_photo, j.name_zh, j.name_en
        FROM news n LEFT JOIN jurisdictions j ON j.code = n.scope_code
        WHERE n.scope != 'village' OR n.scope_code = :village
        ORDER BY n.published_at DESC LIMIT :limit
        """,
        {"village": village_code or "", "limit": limit},
    ) as cursor:
        return list(await cursor.fetchall())


async def get(db: aiosqlite.Connection, news_id: str) -> aiosqlite.Row | None:
    """One post with its place's name."""
    async with db.execute(
        """
        SELECT n.*, j.name_zh, j.name_en FROM news n
        LEFT JOIN jurisdictions j ON j.code = n.scope_code WHERE n.id = ?
        """,
        (news_id,),
    ) as cursor:
        return await cursor.fetchone()


async def create(
    db: aiosqlite.Connection,
    *,
    scope: str,
    scope_code: str,
    title: str,
    body: str,
    photo: tuple[str, str] | None,
    author_id: str,
    now: str,
) -> str:
    """A township or village post written here; returns its id."""
    news_id = str(ULID())
    await db.execute(
        """
        INSERT INTO news (id, origin, scope, scope_code, title, body, photo_sha256,
            thumb_sha256, author_id, published_at)
        VALUES (?, 'township', ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            news_id,
            scope,
            scope_code,
            title,
            body,
            photo[0] if photo else None,
            photo[1] if photo else None,
            author_id,
            now,
        ),
    )
    return news_id


async def keep_city_news(db: aiosqlite.Connection, post: CityNews, city_code: str) -> None:
    """Store (or refresh) the copy of a city-wide post central published."""
    await db.execute(
        """
        INSERT INTO news (id, origin, scope, scope_code, title, body, published_at)
        VALUES (?, 'central', 'city', ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body
        WHERE news.origin = 'central'
        """,
        (post.id, city_code, post.title, post.body, post.published_at),
    )
