"""Reading the jurisdiction tree."""

from __future__ import annotations

import aiosqlite

from edge.jurisdictions.codes import prefix_of


async def get(db: aiosqlite.Connection, code: str) -> aiosqlite.Row | None:
    """One jurisdiction by code."""
    async with db.execute("SELECT * FROM jurisdictions WHERE code = ?", (code,)) as cursor:
        return await cursor.fetchone()


async def villages_of(db: aiosqlite.Connection, township_code: str) -> list[aiosqlite.Row]:
    """The villages of a township, in data order."""
    async with db.execute(
        "SELECT * FROM jurisdictions WHERE parent_code = ? AND level = 'village' ORDER BY position",
        (township_code,),
    ) as cursor:
        return list(await cursor.fetchall())


async def townships(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Every township the node knows, with its county."""
    async with db.execute(
        """
        SELECT t.*, c.name_zh AS county_zh, c.name_en AS county_en
        FROM jurisdictions t JOIN jurisdictions c ON c.code = t.parent_code
        WHERE t.level = 'township' ORDER BY t.position
        """
    ) as cursor:
        return list(await cursor.fetchall())


async def inside(db: aiosqlite.Connection, outer: str) -> list[aiosqlite.Row]:
    """`outer` and every jurisdiction inside it."""
    async with db.execute(
        "SELECT * FROM jurisdictions WHERE code LIKE ? || '%' ORDER BY position",
        (prefix_of(outer),),
    ) as cursor:
        return list(await cursor.fetchall())
