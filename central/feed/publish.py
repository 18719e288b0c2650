"""Publish central's reference data down the feed to every node: holidays, the catalog, city
policies and news, and the list of townships with their addresses."""

from __future__ import annotations

import aiosqlite

from central import nodes
from central.feed.queries import append
from edge.catalog.loader import from_parts, read_parts
from edge.workdays.queries import package_exceptions
from replication.feed.commands import (
    Calendar,
    CalendarDay,
    Catalog,
    CityNews,
    CityPolicy,
    Command,
    Township,
    Townships,
    encode,
)


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


async def _last_townships(db: aiosqlite.Connection) -> dict[str, str]:
    """The payload of the newest `townships` command each node was sent, by node."""
    async with db.execute(
        "SELECT node_id, payload FROM commands WHERE seq IN (SELECT max(seq) FROM commands "
        "WHERE kind = 'townships' GROUP BY node_id)"
    ) as cursor:
        return {row["node_id"]: row["payload"] for row in await cursor.fetchall()}


async def publish_townships(db: aiosqlite.Connection, now: str) -> list[str]:
    """Send every registered township with its public address to each node whose last list
    differs (caller's transaction; at start-up, after the registry is applied); the ids."""
    async with db.execute(
        "SELECT node_id, township_code, township_zh, township_en, base_url FROM nodes "
        "ORDER BY township_code"
    ) as cursor:
        rows = list(await cursor.fetchall())
    command = Townships(tuple(Township(*row) for row in rows))
    sent, wanted = await _last_townships(db), encode(command)
    return [
        await append(db, row["node_id"], command, now)
        for row in rows
        if sent.get(row["node_id"]) != wanted
    ]


async def apply_registry(db: aiosqlite.Connection, registry: str, now: str) -> list[str]:
    """Register every node of `registry` (CUNBAN_CENTRAL_NODES) and send the townships list
    to each node whose list changed (caller's transaction); the ids sent to."""
    for node_id, township, url in nodes.parse_registry(registry):
        await nodes.register(db, node_id, township, url, now)
    return await publish_townships(db, now)
