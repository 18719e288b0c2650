"""The registry of township edge nodes: register one, list them."""

from __future__ import annotations

from functools import cache

import aiosqlite

from edge.jurisdictions.loader import read_tree


def parse_registry(text: str) -> list[tuple[str, str, str]]:
    """Parse CUNBAN_CENTRAL_NODES: `node_id=township_code=base_url`, comma-separated."""
    entries = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        node_id, township, url = [*part.split("=", 2), "", ""][:3]
        if not (node_id and len(township) == 12 and township.isdigit() and url):
            raise ValueError(f"bad node entry {part!r}: expected node_id=township_code=base_url")
        entries.append((node_id, township, url))
    return entries


@cache
def _tree() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in read_tree()}


async def register(
    db: aiosqlite.Connection, node_id: str, township_code: str, base_url: str, now: str
) -> None:
    """Add or update a node; its names come from the jurisdiction tree."""
    tree = _tree()
    township = tree.get(township_code)
    if township is None or township["level"] != "township":
        raise ValueError(f"{township_code} is not a township in the jurisdiction tree")
    county = tree[township["parent_code"]]
    await db.execute(
        """
        INSERT INTO nodes (node_id, township_code, township_zh, township_en, county_zh,
            county_en, base_url, registered_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (node_id) DO UPDATE SET township_code = excluded.township_code,
            township_zh = excluded.township_zh, township_en = excluded.township_en,
            county_zh = excluded.county_zh, county_en = excluded.county_en,
            base_url = excluded.base_url
        """,
        (
            node_id,
            township_code,
            township["name_zh"],
            township["name_en"],
            county["name_zh"],
            county["name_en"],
            base_url,
            now,
        ),
    )


async def all_nodes(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Every registered node, by township code."""
    async with db.execute("SELECT * FROM nodes ORDER BY township_code") as cursor:
        return list(await cursor.fetchall())
