"""The city's demo policies and news (written by us from how such policies work in Guangxi;
amounts are plausible, not official), published down the feed once; idempotent."""

from __future__ import annotations

from datetime import date

import aiosqlite
from ulid import ULID

from central.feed.queries import append
from central.news import queries as news
from central.nodes import parse_registry, register
from central.policies import queries
from edge.policies.reference import city_policies
from replication.feed.commands import CityNews, CityPolicy, Command

CITY_NEWS = (
    (
        "全市冬季森林防火戒严期开始",
        "即日起至明年 4 月 30 日为森林防火戒严期，严禁野外烧荒、祭祀烧纸等一切野外用火。",
    ),
    (
        "城乡居民医保集中缴费期延长至 12 月底",
        "未缴费的群众可通过村代办员、银行网点或手机缴纳下一年度城乡居民医保费。",
    ),
)


async def load_demo_city_content(
    db: aiosqlite.Connection, registry: str, admin_phone: str, now: str
) -> None:
    """Write the city's demo policies and news once (as the admin with `admin_phone`), and send
    them to each node of `registry` (CUNBAN_CENTRAL_NODES, registered here as at start-up)
    whose feed has none yet; idempotent. `python -m central demo` runs it, the app does not."""
    for node_id, township, url in parse_registry(registry):
        await register(db, node_id, township, url, now)
    async with db.execute("SELECT 1 FROM city_policies LIMIT 1") as cursor:
        empty = await cursor.fetchone() is None
    async with db.execute("SELECT id FROM accounts WHERE phone = ?", (admin_phone,)) as cursor:
        admin = await cursor.fetchone()
    if empty and admin is not None:
        for values in city_policies():  # edge/policies/reference/city.toml
            await queries.create(db, str(ULID()), dict(values), admin["id"], now)
        for title, body in CITY_NEWS:
            await news.create(db, str(ULID()), title, body, admin["id"], now)
    async with db.execute(
        "SELECT node_id FROM nodes WHERE node_id NOT IN "
        "(SELECT node_id FROM commands WHERE kind = 'city_policy')"
    ) as cursor:
        waiting = [row["node_id"] for row in await cursor.fetchall()]
    if not waiting:
        return
    commands: list[Command] = []
    async with db.execute("SELECT * FROM city_policies ORDER BY created_at, id") as cursor:
        commands += [_policy(row) for row in await cursor.fetchall()]
    async with db.execute("SELECT * FROM city_news ORDER BY published_at, id") as cursor:
        commands += [
            CityNews(r["id"], r["title"], r["body"], r["published_at"])
            for r in await cursor.fetchall()
        ]
    for node_id in waiting:
        for command in commands:
            await append(db, node_id, command, now)


def _policy(row: aiosqlite.Row) -> CityPolicy:
    return CityPolicy(
        id=row["id"],
        title=row["title"],
        issuer=row["issuer"],
        eligibility=row["eligibility"],
        amount=row["amount"],
        how_to_apply=row["how_to_apply"],
        item_code=row["item_code"],
        valid_from=date.fromisoformat(row["valid_from"]),
        valid_to=date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
        published_at=row["created_at"],
    )
