"""The market's SQL at central: search over every node's ingested listings, one listing, and
the contact requests made here (limits, this week's distinct buyers)."""

from __future__ import annotations

from datetime import date

import aiosqlite

from edge.market.search import Filters, result_page


async def search(
    db: aiosqlite.Connection, filters: Filters, today: date
) -> tuple[list[aiosqlite.Row], bool]:
    """One page of live listings of every township, and whether another follows: one query
    (two nearest first), the words on the trigram index `market_search`."""
    return await result_page(db, "edge_market_listings", "market_search", filters, today)


async def listing(db: aiosqlite.Connection, node_id: str, listing_id: str) -> aiosqlite.Row | None:
    """One ingested listing with its node's public address, or None."""
    async with db.execute(
        "SELECT l.*, n.base_url FROM edge_market_listings l JOIN nodes n USING (node_id) "
        "WHERE l.node_id = ? AND l.id = ?",
        (node_id, listing_id),
    ) as cursor:
        return await cursor.fetchone()


async def places(db: aiosqlite.Connection) -> list[aiosqlite.Row]:
    """Counties and townships, for the place filter."""
    async with db.execute(
        "SELECT code, level, name_zh, name_en FROM jurisdictions "
        "WHERE level IN ('county', 'township') ORDER BY code"
    ) as cursor:
        return list(await cursor.fetchall())


async def asked_since(db: aiosqlite.Connection, node_id: str, listing_id: str, since: str) -> int:
    """Distinct buyers who asked since `since`: the node's record as ingested, and the requests
    made here that have not come back up yet."""
    async with db.execute(
        """
        SELECT count(DISTINCT buyer_key) FROM (
            SELECT buyer_key FROM edge_market_contacts
            WHERE node_id = ? AND listing_id = ? AND created_at >= ?
            UNION ALL
            SELECT buyer_key FROM market_contacts
            WHERE node_id = ? AND listing_id = ? AND created_at >= ?
        )
        """,
        (node_id, listing_id, since, node_id, listing_id, since),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def contact_counts(
    db: aiosqlite.Connection, buyer_key: str, source_key: str, since: str
) -> tuple[int, int]:
    """Requests made here since `since` by this buyer's number and from this address."""
    async with db.execute(
        """
        SELECT (SELECT count(*) FROM market_contacts WHERE buyer_key = ? AND created_at >= ?),
               (SELECT count(*) FROM market_contacts WHERE source_key = ? AND created_at >= ?)
        """,
        (buyer_key, since, source_key, since),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def record_contact(
    db: aiosqlite.Connection,
    *,
    contact_id: str,
    node_id: str,
    listing_id: str,
    buyer_key: str,
    source_key: str,
    dedupe_key: str,
    command_id: str,
    now: str,
) -> None:
    """A request made here and the command that carries it to the node."""
    await db.execute(
        """
        INSERT INTO market_contacts (id, node_id, listing_id, buyer_key, source_key, dedupe_key,
            command_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (contact_id, node_id, listing_id, buyer_key, source_key, dedupe_key, command_id, now),
    )


async def seen_request(db: aiosqlite.Connection, dedupe_key: str) -> bool:
    """Whether this very request (listing, number, text, day) was made here before."""
    async with db.execute(
        "SELECT 1 FROM market_contacts WHERE dedupe_key = ?", (dedupe_key,)
    ) as cursor:
        return await cursor.fetchone() is not None
