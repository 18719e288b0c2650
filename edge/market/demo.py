"""Demo market: in every village of the township, sellers checked by their agent with real-looking
lots (黑山羊, 豆角, 生蚝, 小鸡苗 ...), a few buy requests, and one reported listing; idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import aiosqlite

from edge.jurisdictions import queries as places
from edge.kernel.clock import stamp
from edge.kernel.id_numbers import check_character
from edge.market import queries
from edge.market.forms import ListingDraft, SellerCheck
from edge.market.routes import new_token

# (name, ID serial, cooperative) per seller; ID numbers are built valid (GB 11643) below
SELLERS = (
    ("韦春梅", "196803120", ""),
    ("黄德明", "197511050", "德明黑山羊养殖专业合作社"),
    ("陈海生", "198202200", ""),
)
# (seller index, side, category, product, variety, grade, qty, unit, price fen or None,
#  days from today it starts, days it lasts, delivery note, description)
LOTS = (
    (
        0,
        "supply",
        "vegetables",
        "豆角",
        "长豆角",
        "一级",
        800,
        "jin",
        350,
        0,
        30,
        "村口自提，镇上可送",
        "早上现摘，每天能出200斤左右",
    ),
    (
        0,
        "supply",
        "poultry",
        "小鸡苗",
        "三黄鸡",
        "已打疫苗",
        2000,
        "bird",
        280,
        3,
        40,
        "村委会门口取苗",
        "孵出7天，打过马立克疫苗",
    ),
    (
        1,
        "supply",
        "livestock",
        "黑山羊",
        "努比亚杂交",
        "每只60斤以上",
        45,
        "head",
        None,
        0,
        60,
        "合作社羊场看货",
        "放山散养，可开检疫证",
    ),
    (
        2,
        "supply",
        "aquatic",
        "生蚝",
        "大蚝",
        "带壳",
        3,
        "ton",
        800,
        0,
        20,
        "码头交货",
        "当天出水，可代开壳",
    ),
    (
        2,
        "demand",
        "other",
        "有机肥",
        "",
        "",
        10,
        "ton",
        None,
        0,
        30,
        "送到村里",
        "求购发酵羊粪或鸡粪",
    ),
    (0, "supply", "fruit", "哈密瓜", "西州蜜", "", 600, "jin", 300, 5, 45, "地头自提", ""),
)


def _id_number(region: str, birth_serial: str, index: int) -> str:
    """A valid demo ID number: region, birth date from the serial, sequence, check digit."""
    year = "19" + birth_serial[:2]
    first17 = f"{region}{year}{birth_serial[2:6]}{index:03d}"
    return first17 + check_character(first17)


async def load_demo_market(
    conn: aiosqlite.Connection, township: str, now: datetime, keys_dir: Path
) -> int:
    """Sellers and listings in every village; skipped if the market has any listing."""
    async with conn.execute("SELECT count(*) FROM market_listings") as cursor:
        counted = await cursor.fetchone()
    if counted is not None and counted[0]:
        return 0
    today = now.date()
    made = 0
    for v_index, village in enumerate(await places.villages_of(conn, township)):
        agent = await _agent_of(conn, village["code"])
        if agent is None:
            continue
        seller_ids = []
        for s_index, (name, serial, coop) in enumerate(SELLERS):
            number = _id_number(township[:6], serial, 100 + v_index * 10 + s_index)
            check = SellerCheck(
                "cooperative" if coop else "person",
                name,
                coop,
                number,
                f"1397771{v_index:02d}{s_index:02d}",
                village["code"],
            )
            seller_id = await queries.save_seller(conn, check, agent, stamp(now))
            assert seller_id is not None  # no prefix: any village
            seller_ids.append(seller_id)
        for lot in LOTS[v_index % 2 :]:
            seller = await queries.seller(conn, seller_ids[lot[0]])
            assert seller is not None
            await queries.create_listing(
                conn,
                seller,
                _draft(lot, today),
                by=agent,
                token_hash=new_token()[1],
                now=stamp(now),
            )
            made += 1
    await _one_report(conn, now)
    return made


def _draft(lot: tuple, today: date) -> ListingDraft:
    _s, side, category, product, variety, grade, qty, unit, fen, start, days, note, text = lot
    first = today + timedelta(days=start)
    return ListingDraft(
        side,
        category,
        product,
        variety,
        grade,
        float(qty),
        unit,
        fen,
        first,
        min(first + timedelta(days=days), today + timedelta(days=90)),
        note,
        text,
    )


async def _agent_of(conn: aiosqlite.Connection, village: str) -> str | None:
    async with conn.execute(
        "SELECT id FROM accounts WHERE role = 'agent' AND jurisdiction_code = ? LIMIT 1",
        (village,),
    ) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def _one_report(conn: aiosqlite.Connection, now: datetime) -> None:
    async with conn.execute(
        "SELECT id FROM market_listings WHERE product = '生蚝' ORDER BY created_at LIMIT 1"
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        await queries.add_report(
            conn, row[0], "fraud", "价格比码头低太多，怀疑是骗定金", "demo", stamp(now)
        )
