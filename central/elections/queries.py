"""SQL for central's election publicity: those running today (by date) and their candidates."""

from __future__ import annotations

from datetime import date

import aiosqlite


async def running(db: aiosqlite.Connection, today: date) -> list[aiosqlite.Row]:
    """Publicities of every township running on `today`."""
    async with db.execute(
        """
        SELECT e.node_id, e.id, e.title, e.starts_on, e.ends_on, e.village_code,
               j.name_zh AS village_zh, j.name_en AS village_en
        FROM edge_elections e JOIN jurisdictions j ON j.code = e.village_code
        WHERE e.starts_on <= :today AND e.ends_on >= :today ORDER BY e.ends_on LIMIT 200
        """,
        {"today": today.isoformat()},
    ) as cursor:
        return list(await cursor.fetchall())


async def candidates(db: aiosqlite.Connection, today: date) -> list[aiosqlite.Row]:
    """The candidates of every publicity running on `today` (one query for the page)."""
    async with db.execute(
        """
        SELECT c.node_id, c.election_id, c.name, c.role
        FROM edge_election_candidates c
        JOIN edge_elections e ON e.node_id = c.node_id AND e.id = c.election_id
        WHERE e.starts_on <= :today AND e.ends_on >= :today ORDER BY c.position
        """,
        {"today": today.isoformat()},
    ) as cursor:
        return list(await cursor.fetchall())
