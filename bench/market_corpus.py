"""A generated market: listings with real Chinese product names, varieties and near-miss
neighbours (豆角 beside 豆腐 and 四季豆, 生蚝 beside 蚝油 and 生姜, 黑山羊 beside 黑猪 and 山羊奶,
哈密瓜 beside 西瓜 and 木瓜), for the search quality test and bench/market_search.py."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from edge.market.search import search_grams

# category -> (product, varieties, unit)
PRODUCTS: dict[str, tuple[tuple[str, tuple[str, ...], str], ...]] = {
    "vegetables": (
        ("豆角", ("长豆角", "白豆角", "紫豆角", ""), "jin"),
        ("四季豆", ("", "无筋"), "jin"),
        ("空心菜", ("", "大叶"), "jin"),
        ("角瓜", ("",), "jin"),
        ("白菜", ("黄心", ""), "jin"),
        ("生姜", ("小黄姜", ""), "jin"),
        ("豆芽", ("绿豆芽", "黄豆芽"), "jin"),
        ("辣椒", ("朝天椒", "线椒"), "jin"),
        ("萝卜", ("白萝卜", ""), "jin"),
    ),
    "fruit": (
        ("哈密瓜", ("西州蜜", "网纹", ""), "jin"),
        ("西瓜", ("麒麟瓜", "黑美人"), "jin"),
        ("木瓜", ("红肉",), "jin"),
        ("荔枝", ("妃子笑", "桂味", "黑叶"), "jin"),
        ("龙眼", ("石硖",), "jin"),
        ("火龙果", ("红心",), "jin"),
        ("沃柑", ("",), "box"),
    ),
    "grain": (
        ("大米", ("香米", "丝苗米"), "kg"),
        ("黄豆", ("",), "jin"),
        ("花生", ("小粒红",), "jin"),
        ("玉米", ("甜玉米", "糯玉米"), "jin"),
    ),
    "livestock": (
        ("黑山羊", ("努比亚杂交", "隆林山羊", ""), "head"),
        ("山羊奶", ("",), "kg"),
        ("黑猪", ("陆川猪",), "head"),
        ("黄牛", ("",), "head"),
        ("白山羊", ("",), "head"),
    ),
    "poultry": (
        ("小鸡苗", ("三黄鸡", "麻鸡"), "bird"),
        ("鸭苗", ("",), "bird"),
        ("土鸡蛋", ("",), "box"),
    ),
    "aquatic": (
        ("生蚝", ("大蚝", "香山蚝", ""), "ton"),
        ("对虾", ("南美白对虾",), "jin"),
        ("青蟹", ("膏蟹",), "jin"),
        ("罗非鱼", ("",), "jin"),
    ),
    "processed": (
        ("蚝油", ("",), "box"),
        ("豆腐", ("石磨豆腐", "豆腐干"), "jin"),
        ("腊肉", ("",), "jin"),
        ("米粉", ("",), "bag"),
    ),
}
DESCRIPTIONS = (
    "当天采收，量大从优",
    "自家种养，可以看货",
    "合作社统一收购，长期供应",
    "可开发票，支持批发",
    "新鲜到货，价格实惠",
    "",
)
NOTES = ("村口自提", "镇上可送", "码头交货", "包装好可发物流", "")
VILLAGES = {
    "lianzhou": ("450521100201", "450521100202", "450521100203"),
    "fucheng": ("450503101201", "450503101202", "450503101203"),
}


def listings(count: int, today: date, seed: int = 15) -> Iterator[dict[str, Any]]:
    """`count` listings as central's edge_market_listings rows (most live, some expired,
    sold out or hidden), spread over both demo townships."""
    rng = random.Random(seed)
    flat = [(cat, p) for cat, products in PRODUCTS.items() for p in products]
    for n in range(count):
        category, (product, varieties, unit) = rng.choice(flat)
        variety = rng.choice(varieties)
        node = rng.choice(tuple(VILLAGES))
        start = today - timedelta(days=rng.randint(0, 60))
        description = rng.choice(DESCRIPTIONS)
        yield {
            "node_id": node,
            "id": f"{n:026d}",
            "seller_id": f"{n % 5000:026d}",
            "seller_label": rng.choice("韦黄陈李梁覃莫庞") + "*",
            "side": "demand" if rng.random() < 0.1 else "supply",
            "category": category,
            "product": product,
            "variety": variety,
            "grade": "",
            "quantity": float(rng.randint(1, 2000)),
            "unit": unit,
            "price_fen": None if rng.random() < 0.2 else rng.randint(100, 300_000),
            "available_from": start.isoformat(),
            "available_until": (start + timedelta(days=rng.randint(20, 90))).isoformat(),
            "village_code": rng.choice(VILLAGES[node]),
            "delivery_note": rng.choice(NOTES),
            "description": description,
            "search_grams": search_grams(product, variety, description),
            "state": rng.choices(("active", "sold_out", "withdrawn", "hidden"), (90, 5, 3, 2))[0],
            "origin_confirmed_at": start.isoformat() + "T08:00:00Z",
            "origin_seal_id": None,
            "created_at": start.isoformat() + f"T{n % 24:02d}:00:00Z",
            "updated_at": start.isoformat() + "T08:00:00Z",
            "rev": n + 1,
        }


def insert_sql(row: dict[str, Any]) -> str:
    """The INSERT for rows shaped like `row`."""
    names = ", ".join(row)
    return f"INSERT INTO edge_market_listings ({names}) VALUES ({', '.join('?' * len(row))})"
