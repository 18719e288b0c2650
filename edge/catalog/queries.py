"""Reading the catalog: search and filter the list, fetch one item and the department names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from edge.catalog.item import Bilingual, CatalogItem


@dataclass(frozen=True)
class CatalogFilter:
    """What the resident asked the list for."""

    query: str = ""
    department: str = ""
    mode: str = ""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


async def search(db: aiosqlite.Connection, wanted: CatalogFilter) -> list[aiosqlite.Row]:
    """Active items matching the filter, in code order, with their department names."""
    sql = [
        """
        SELECT i.code, i.name_zh, i.name_en, i.mode, i.level, i.promised_days,
               d.code AS department_code, d.name_zh AS department_zh, d.name_en AS department_en
        FROM catalog_items i JOIN departments d ON d.code = i.department_code
        WHERE i.active = 1
        """
    ]
    params: list[Any] = []
    if wanted.query:
        sql.append(
            "AND (lower(i.name_zh || ' ' || i.name_en || ' ' || i.keywords || ' ' || i.code "
            "|| ' ' || d.name_zh || ' ' || d.name_en) LIKE ? ESCAPE '\\')"
        )
        params.append(_like(wanted.query))
    if wanted.department:
        sql.append("AND i.department_code = ?")
        params.append(wanted.department)
    if wanted.mode:
        sql.append("AND i.mode = ?")
        params.append(wanted.mode)
    sql.append("ORDER BY d.position, i.code")
    async with db.execute("\n".join(sql), params) as cursor:
        return list(await cursor.fetchall())


async def departments(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Departments that have at least one active item, for the filter."""
    async with db.execute(
        """
        SELECT d.* FROM departments d
        WHERE EXISTS (SELECT 1 FROM catalog_items i WHERE i.department_code = d.code
                      AND i.active = 1)
        ORDER BY d.position
        """
    ) as cursor:
        return list(await cursor.fetchall())


async def item(db: aiosqlite.Connection, code: str) -> CatalogItem | None:
    """One active item, or None."""
    async with db.execute(
        "SELECT body FROM catalog_items WHERE code = ? AND active = 1", (code,)
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else CatalogItem.from_body(row["body"])


async def department_names(db: aiosqlite.Connection) -> dict[str, Bilingual]:
    """Every department's name by code, for an item's department and route stages."""
    async with db.execute("SELECT code, name_zh, name_en FROM departments") as cursor:
        return {
            row["code"]: Bilingual(row["name_zh"], row["name_en"])
            for row in await cursor.fetchall()
        }
