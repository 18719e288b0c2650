"""Seal the notice-board sheets of policies and village affairs published before their sheets
were sealed at publication (the demo's, an older node's), dated when each was published."""

from __future__ import annotations

import aiosqlite

from edge.affairs.sheet import seal_affair
from edge.policies.sheet import seal_policy
from edge.settings import Settings


async def seal_published(db: aiosqlite.Connection, settings: Settings) -> None:
    """Every published policy's and village disclosure's sheets, in the caller's write."""
    async with db.execute("SELECT id, created_at FROM policies") as cursor:
        policies = list(await cursor.fetchall())
    async with db.execute(
        "SELECT id, published_at FROM affairs WHERE status = 'published'"
    ) as cursor:
        affairs = list(await cursor.fetchall())
    for policy in policies:
        await seal_policy(db, settings, policy["id"], policy["created_at"])
    for affair in affairs:
        await seal_affair(db, settings, affair["id"], affair["published_at"])
