"""SQL for central's view of village affairs: the villages that published, one village's list,
one disclosure with its finance lines (all from the ingested edge_* copies)."""

from __future__ import annotations

import aiosqlite

from edge.affairs.records import Line


async def villages(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Villages with published disclosures, with their township and how many."""
    async with db.execute(
        """
        SELECT a.village_code, v.name_zh, v.name_en, t.name_zh AS township_zh,
               t.name_en AS township_en, count(*) AS published, max(a.published_at) AS newest
        FROM edge_affairs a
        JOIN jurisdictions v ON v.code = a.village_code
        LEFT JOIN jurisdictions t ON t.code = v.parent_code
        WHERE a.status = 'published'
        GROUP BY a.village_code ORDER BY t.position, v.position
        """
    ) as cursor:
        return list(await cursor.fetchall())


async def published(db: aiosqlite.Connection, village_code: str) -> list[aiosqlite.Row]:
    """One village's published disclosures, newest first."""
    async with db.execute(
        """
        SELECT node_id, id, kind, period, title, published_at FROM edge_affairs
        WHERE village_code = ? AND status = 'published' ORDER BY published_at DESC LIMIT 100
        """,
        (village_code,),
    ) as cursor:
        return list(await cursor.fetchall())


async def get(db: aiosqlite.Connection, node_id: str, affair_id: str) -> aiosqlite.Row | None:
    """One published disclosure with its village's name."""
    async with db.execute(
        """
        SELECT a.*, j.name_zh AS village_zh, j.name_en AS village_en
        FROM edge_affairs a JOIN jurisdictions j ON j.code = a.village_code
        WHERE a.node_id = ? AND a.id = ? AND a.status = 'published'
        """,
        (node_id, affair_id),
    ) as cursor:
        return await cursor.fetchone()


async def lines(db: aiosqlite.Connection, node_id: str, affair_id: str) -> list[Line]:
    """Its finance lines in the order written."""
    async with db.execute(
        "SELECT direction, label, amount_fen FROM edge_affair_lines "
        "WHERE node_id = ? AND affair_id = ? ORDER BY position",
        (node_id, affair_id),
    ) as cursor:
        return [Line(r["direction"], r["label"], r["amount_fen"]) for r in await cursor.fetchall()]
