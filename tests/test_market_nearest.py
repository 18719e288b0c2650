"""Nearest first at central over generated listings: the village, the rest of its township, of
its county, then the rest, each newest first, on every page, whether a tier is empty, sparse
(read through the place index) or dense (walked newest first): the same order as sorting every
live listing in Python."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.market_corpus import insert_sql, listings
from central.market.queries import search
from central.schema import migrate_database
from edge.kernel.db import Database
from edge.market.search import PAGE_SIZE, Filters

TODAY = date(2026, 11, 23)
SPARSE_VILLAGE = "450521200201"  # another township of 连州's county: a handful of listings


def _tier(near: str, code: str) -> int:
    if code == near:
        return 0
    if code[:9] == near[:9]:
        return 1
    return 2 if code[:6] == near[:6] else 3


def _expected(generated: list[dict[str, Any]], near: str, category: str) -> list[str]:
    live = [
        r
        for r in generated
        if r["state"] == "active"
        and r["available_until"] >= TODAY.isoformat()
        and (not category or r["category"] == category)
    ]
    live.sort(key=lambda r: r["id"], reverse=True)
    live.sort(key=lambda r: r["created_at"], reverse=True)
    live.sort(key=lambda r: _tier(near, r["village_code"]))
    return [r["id"] for r in live]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    path = tmp_path_factory.mktemp("nearest") / "central.db"
    generated = list(listings(9_000, TODAY))
    for row in generated[:40]:
        row["village_code"] = SPARSE_VILLAGE
    asyncio.run(_migrate(path))
    with sqlite3.connect(path) as conn:
        conn.executemany(insert_sql(generated[0]), [tuple(r.values()) for r in generated])
    return path, generated


async def _migrate(path: Path) -> None:
    db = Database(path, replicated=False)
    await db.open()
    try:
        await migrate_database(db)
    finally:
        await db.close()


async def _pages(path: Path, near: str, category: str, pages: int) -> list[str]:
    db = Database(path, replicated=False)
    await db.open()
    found: list[str] = []
    try:
        for page in range(1, pages + 1):
            async with db.read() as conn:
                rows, _more = await search(
                    conn, Filters(near=near, category=category, page=page), TODAY
                )
            found += [r["id"] for r in rows]
    finally:
        await db.close()
    return found


@pytest.mark.parametrize(
    ("near", "category"),
    [
        ("450521100201", ""),  # the village, a dense township, an empty county tier, dense rest
        (SPARSE_VILLAGE, ""),  # 40 here, an empty township rest, a dense county tier
        ("450521100209", "aquatic"),  # none here; the county tier is sparse (< SPARSE_TIER)
        ("450503101202", "livestock"),
    ],
)
def test_nearest_first_pages_match_a_full_sort(corpus, near, category):
    path, generated = corpus
    expected = _expected(generated, near, category)
    sizes = [sum(1 for r in expected if _tier(near, _code(generated, r)) == t) for t in range(4)]
    # the first six pages, then two pages across the end of the first tier
    found = asyncio.run(_pages(path, near, category, 6))
    assert found == expected[: 6 * PAGE_SIZE]
    border = sum(sizes[:1]) // PAGE_SIZE + 1
    found = asyncio.run(_pages_from(path, near, category, border))
    start = (border - 1) * PAGE_SIZE
    assert found == expected[start : start + 2 * PAGE_SIZE]


def _code(generated: list[dict[str, Any]], listing_id: str) -> str:
    return generated[int(listing_id)]["village_code"]


async def _one(path: Path, near: str, category: str, page: int) -> list[str]:
    db = Database(path, replicated=False)
    await db.open()
    try:
        async with db.read() as conn:
            rows, _more = await search(
                conn, Filters(near=near, category=category, page=page), TODAY
            )
    finally:
        await db.close()
    return [r["id"] for r in rows]


async def _pages_from(path: Path, near: str, category: str, first: int) -> list[str]:
    return [*await _one(path, near, category, first), *await _one(path, near, category, first + 1)]
