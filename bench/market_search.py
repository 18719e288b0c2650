"""Central's market search over a generated city: p50/p95 of one result page for word, short
word, filtered and empty searches over N listings (default 100,000), and the LIKE scan the
bigram column replaces. `python -m bench.market_search [--listings N] [--rounds R]`."""

from __future__ import annotations

import argparse
import asyncio
import platform
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.market_corpus import insert_sql, listings
from bench.performance_doc import replace_section
from central.market.queries import search
from central.schema import migrate_database
from edge.kernel.db import Database
from edge.market.search import Filters

TODAY = date(2026, 11, 23)
SEARCHES = {
    "word 3+ (黑山羊)": Filters(query="黑山羊"),
    "word 2 (豆角)": Filters(query="豆角"),
    "word 1 (鸡)": Filters(query="鸡"),
    "two words (生蚝 大蚝)": Filters(query="生蚝 大蚝"),
    "word + filters": Filters(query="哈密瓜", place="450521", max_fen=150_000, side="supply"),
    "no word, category": Filters(category="livestock"),
    "no word, nearest": Filters(near="450503101202"),
    "no word, nearest, page 5": Filters(near="450521100201", page=5),
    "word + nearest (黑山羊)": Filters(query="黑山羊", near="450521100201"),
    "nearest, village with none": Filters(near="450521100209", category="aquatic"),
    "no word, page 10": Filters(page=10),
}


def build(path: Path, count: int) -> None:
    """Central's schema and `count` generated listings."""

    async def migrate() -> None:
        db = Database(path, replicated=False)
        await db.open()
        try:
            await migrate_database(db)
        finally:
            await db.close()

    asyncio.run(migrate())
    rows = list(listings(count, TODAY))
    with sqlite3.connect(path) as conn:  # foreign keys off: no nodes rows needed
        conn.executemany(insert_sql(rows[0]), [tuple(r.values()) for r in rows])


def percentile(samples: list[float], share: float) -> float:
    """The `share` percentile of `samples` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(path: Path, rounds: int) -> dict[str, tuple[float, float, int]]:
    """(p50 ms, p95 ms, results on the page) of each search."""
    db = Database(path, replicated=False)
    await db.open()
    found: dict[str, tuple[float, float, int]] = {}
    try:
        for name, filters in SEARCHES.items():
            samples = []
            for _ in range(rounds):
                async with db.read() as conn:
                    start = time.perf_counter()
                    rows, _more = await search(conn, filters, TODAY)
                    samples.append((time.perf_counter() - start) * 1000)
            found[name] = (percentile(samples, 0.5), percentile(samples, 0.95), len(rows))
        samples = []
        for _ in range(rounds):
            async with db.read() as conn:
                start = time.perf_counter()
                async with conn.execute(
                    "SELECT * FROM edge_market_listings WHERE state = 'active' AND "
                    "available_until >= ? AND (product LIKE '%豆角%' OR variety LIKE '%豆角%' "
                    "OR description LIKE '%豆角%') ORDER BY created_at DESC LIMIT 21",
                    (TODAY.isoformat(),),
                ) as cursor:
                    rows = list(await cursor.fetchall())
                samples.append((time.perf_counter() - start) * 1000)
        found["LIKE scan instead (豆角)"] = (
            percentile(samples, 0.5),
            percentile(samples, 0.95),
            len(rows[:20]),
        )
    finally:
        await db.close()
    return found


SECTION = "## Market search at central (bench/market_search.py)"


def render(
    count: int, rounds: int, built: float, size: float, found: dict[str, tuple[float, float, int]]
) -> str:
    """The docs/performance.md section."""
    rows = [f"| {name} | {p50:.2f} | {p95:.2f} | {n} |" for name, (p50, p95, n) in found.items()]
    return "\n".join(
        [
            SECTION,
            "",
            f"{count:,} generated listings (bench/market_corpus.py, ~90 % live) in central's "
            f"schema, built and indexed in {built:.0f} s ({size:.0f} MB); one result page "
            f"(20 rows) of `central.market.queries.search`, {rounds} rounds each, on "
            f"{platform.machine()} (Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}), a 2-core machine shared with other work:",
            "",
            "| Search | p50 ms | p95 ms | Rows |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def main() -> None:
    """Build, measure, report (and write the section of docs/performance.md)."""
    parser = argparse.ArgumentParser(prog="python -m bench.market_search", description=__doc__)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "central.db"
        start = time.perf_counter()
        build(path, args.listings)
        built = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(folder).iterdir()) / 1e6
        found = asyncio.run(measure(path, args.rounds))
    text = render(args.listings, args.rounds, built, size, found)
    print(text)
    if not args.no_doc:
        replace_section(Path("docs/performance.md"), SECTION, text)


if __name__ == "__main__":
    main()
