"""SQL for central's policies: its own city-wide rows and the townships' ingested copies."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiosqlite


async def create(
    db: aiosqlite.Connection, policy_id: str, values: dict[str, Any], by: str, now: str
) -> None:
    """A city-wide policy as central keeps it."""
    await db.execute(
        """
        INSERT INTO city_policies (id, title, issuer, eligibility, amount, how_to_apply,
            item_code, valid_from, valid_to, created_by, created_at)
        VALUES (:id, :title, :issuer, :eligibility, :amount, :how_to_apply, :item_code,
            :valid_from, :valid_to, :by, :now)
        """,
        {**values, "id": policy_id, "by": by, "now": now},
    )


async def in_force(db: aiosqlite.Connection, today: date) -> list[aiosqlite.Row]:
    """City-wide policies and every township's own in force on `today`, city ones first."""
    async with db.execute(
        """
        SELECT id, title, issuer, eligibility, amount, how_to_apply, item_code, valid_from,
               valid_to, NULL AS township_zh, NULL AS township_en, 0 AS local
        FROM city_policies
        WHERE valid_from <= :today AND (valid_to IS NULL OR valid_to >= :today)
        UNION ALL
        SELECT p.id, p.title, p.issuer, p.eligibility, p.amount, p.how_to_apply, p.item_code,
               p.valid_from, p.valid_to, j.name_zh, j.name_en, 1
        FROM edge_policies p LEFT JOIN jurisdictions j ON j.code = p.scope_code
        WHERE p.origin = 'township' AND p.valid_from <= :today
          AND (p.valid_to IS NULL OR p.valid_to >= :today)
        ORDER BY local, valid_from DESC
        LIMIT 300
        """,
        {"today": today.isoformat()},
    ) as cursor:
        return list(await cursor.fetchall())
