"""The names of the catalog items a power covers (the same catalog_items table on every node)."""

from __future__ import annotations

import aiosqlite


async def item_names(db: aiosqlite.Connection, codes: tuple[str, ...]) -> list[aiosqlite.Row]:
    """(code, name_zh, name_en) of the active items among `codes`, in code order."""
    if not codes:
        return []
    marks = ",".join("?" * len(codes))
    async with db.execute(
        f"SELECT code, name_zh, name_en FROM catalog_items WHERE active = 1 AND code IN ({marks}) "
        "ORDER BY code",
        codes,
    ) as cursor:
        return list(await cursor.fetchall())
