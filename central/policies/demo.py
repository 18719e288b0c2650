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
from replication.feed.commands import CityNews, CityPolicy, Command

CITY_POLICIES = (
    {
        "title": "耕地地力保护补贴",
        "issuer": "北海市农业农村局、北海市财政局",
        "eligibility": "拥有耕地承包权、实际种植粮食或保持耕地地力的农户；"
        "已改变用途、长期抛荒或占补平衡中“补”的劣质耕地不在补贴范围内。",
        "amount": "按核实面积每亩每年约 105 元（以当年县级公示标准为准）",
        "how_to_apply": "不需个人申请：村委会核实种植面积并张榜公示 7 天，乡镇复核后"
        "由财政部门通过社会保障卡（一卡通）直接发放。面积有误的请在公示期内向村委会反映。",
        "item_code": "NY-001",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
    {
        "title": "高龄津贴",
        "issuer": "北海市民政局",
        "eligibility": "具有本市户籍、年满 80 周岁的老年人（百岁老人另有长寿保健补助）。",
        "amount": "80–89 周岁每人每月 50 元；90–99 周岁每月 100 元；100 周岁以上每月 300 元",
        "how_to_apply": "本人或家属持身份证、户口簿到村代办点申请，年满 80 周岁次月起发放；"
        "每年进行一次生存认证，可由代办员上门协助。",
        "item_code": "MZ-004",
        "valid_from": "2025-01-01",
        "valid_to": None,
    },
    {
        "title": "城乡居民医保参保资助",
        "issuer": "北海市医疗保障局",
        "eligibility": "特困人员、低保对象、防止返贫监测对象等困难群众。",
        "amount": "特困人员个人缴费部分全额资助；低保对象、监测对象按定额资助",
        "how_to_apply": "身份由民政、乡村振兴部门认定后自动资助，无需个人申请；"
        "身份有变化的请到村代办点更新。",
        "item_code": None,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
    {
        "title": "农机购置与应用补贴",
        "issuer": "北海市农业农村局",
        "eligibility": "购置列入补贴范围机具的农户和农业生产经营组织。",
        "amount": "按机具类别定额补贴，一般不超过机具价格的 30%",
        "how_to_apply": "购机后凭发票、机具铭牌照片在补贴系统申请，县农机部门核验后发放。",
        "item_code": None,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
    },
)

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
        for values in CITY_POLICIES:
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
