"""What the offline certificate check needs from the database, in one query each."""

from __future__ import annotations

import aiosqlite

from edge.catalog.item import CatalogItem
from edge.jurisdictions.codes import prefix_of
from edge.seals.offices import OfficeName, committee


async def certificate_items(db: aiosqlite.Connection) -> list[CatalogItem]:
    """The active items finished in the village with a certificate."""
    async with db.execute(
        "SELECT body FROM catalog_items WHERE active = 1 AND mode = 'direct' ORDER BY code"
    ) as cursor:
        return [CatalogItem.from_body(row["body"]) for row in await cursor.fetchall()]


async def village_offices(db: aiosqlite.Connection, township_code: str) -> dict[str, OfficeName]:
    """The village committees of a township by village code."""
    async with db.execute(
        "SELECT code, name_zh, name_en FROM jurisdictions WHERE code LIKE ? || '%' "
        "AND level = 'village' ORDER BY position",
        (prefix_of(township_code),),
    ) as cursor:
        return {
            row["code"]: committee(row["name_zh"], row["name_en"])
            for row in await cursor.fetchall()
        }
