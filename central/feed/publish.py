"""Publish central's reference data down the feed: the holiday calendar, to every node."""

from __future__ import annotations

import aiosqlite

from central.feed.queries import append
from edge.workdays.queries import package_exceptions


def calendar_days(years: range) -> list[dict[str, object]]:
    """Holidays and make-up working days of `years`, as the State Council published them."""
    return [
        {"day": day.isoformat(), "is_workday": is_workday, "note": note}
        for day, (is_workday, note) in sorted(package_exceptions(years).items())
    ]


async def publish_calendar(db: aiosqlite.Connection, years: range, now: str) -> list[str]:
    """Append one calendar command per registered node (caller's transaction); their ids."""
    days = calendar_days(years)
    async with db.execute("SELECT node_id FROM nodes ORDER BY node_id") as cursor:
        nodes = [row["node_id"] for row in await cursor.fetchall()]
    return [await append(db, node, "calendar", {"days": days}, now) for node in nodes]
