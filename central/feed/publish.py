"""Publish central's reference data down the feed to every node: holidays and the catalog."""

from __future__ import annotations

import aiosqlite

from central.feed.queries import append
from edge.catalog.loader import from_parts, read_parts
from edge.workdays.queries import package_exceptions
from replication.feed.commands import Calendar, CalendarDay, Catalog, CityNews, CityPolicy, Command


def calendar_days(years: range) -> tuple[CalendarDay, ...]:
    """Holidays and make-up working days of `years`, as the State Council published them."""
    return tuple(
        CalendarDay(day, is_workday, note)
        for day, (is_workday, note) in sorted(package_exceptions(years).items())
    )


async def _to_every_node(db: aiosqlite.Connection, command: Command, now: str) -> list[str]:
    async with db.execute("SELECT node_id FROM nodes ORDER BY node_id") as cursor:
        nodes = [row["node_id"] for row in await cursor.fetchall()]
    return [await append(db, node, command, now) for node in nodes]


async def publish_calendar(db: aiosqlite.Connection, years: range, now: str) -> list[str]:
    """Append one calendar command per registered node (caller's transaction); their ids."""
    return await _to_every_node(db, Calendar(calendar_days(years)), now)


async def publish_catalog(db: aiosqlite.Connection, now: str) -> tuple[str, list[str]]:
    """Send central's catalog files, checked, to every node: (version, command ids)."""
    head, items = read_parts()
    version = from_parts(head, items).version
    return version, await _to_every_node(db, Catalog(head, tuple(items)), now)


async def publish_city_policy(db: aiosqlite.Connection, policy: CityPolicy, now: str) -> list[str]:
    """Send a city-wide benefit policy to every node (caller's transaction); the command ids."""
    return await _to_every_node(db, policy, now)


async def publish_city_news(db: aiosqlite.Connection, post: CityNews, now: str) -> list[str]:
    """Send a city-wide news post to every node (caller's transaction); the command ids."""
    return await _to_every_node(db, post, now)
