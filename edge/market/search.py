"""Full-text search over listings, shared by the edge and central: an FTS5 `trigram` index
finds terms of 3+ characters anywhere in product, variety and description; a term of 1 or 2
characters (豆角, 鸡) matches `search_grams`, each character and bigram of the listing
followed by '|', so it is an exact substring match too, never a table scan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import aiosqlite

GRAM_END = "|"
MAX_TERMS = 5
PAGE_SIZE = 20
# what a term may keep: letters and digits of any script (quotes, '|' and FTS syntax dropped)
TERM_CHARS = re.compile(r"[^\w]+")


def search_grams(*texts: str) -> str:
    """Every distinct character and bigram of `texts` (within words), each followed by '|'."""
    grams: dict[str, None] = {}
    for text in texts:
        for word in TERM_CHARS.split(text.lower()):
            for i, char in enumerate(word):
                grams[char] = None
                if i + 1 < len(word):
                    grams[word[i : i + 2]] = None
    return " ".join(gram + GRAM_END * (3 - len(gram)) for gram in grams)


def terms(query: str) -> list[str]:
    """The words of a query, cleaned, at most MAX_TERMS."""
    return [t for t in TERM_CHARS.split(query.lower()) if t][:MAX_TERMS]


def match_expression(query: str) -> str | None:
    """The FTS5 MATCH text for `query` (every term must be found), None for an empty query."""
    parts = []
    for term in terms(query):
        if len(term) >= 3:
            parts.append(f'{{product variety description}} : "{term}"')
        else:
            parts.append(f'search_grams : "{term}{GRAM_END * (3 - len(term))}"')
    return " AND ".join(parts) or None


@dataclass(frozen=True)
class Filters:
    """What a buyer asked for: words, category, place, price range (fen), side, a day the
    goods must be available on, the order, the page."""

    query: str = ""
    category: str = ""
    place: str = ""  # a county or township code prefix (6 or 9 digits), or ''
    min_fen: int | None = None
    max_fen: int | None = None
    side: str = ""
    on_day: date | None = None
    near: str = ""  # a village code: nearest first in the administrative tree
    page: int = 1

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * PAGE_SIZE


def where_clause(filters: Filters, today: date, alias: str = "l") -> tuple[str, list[object]]:
    """The SQL conditions (live listings only: active and not past their window) and their
    parameters; the full-text condition is the caller's, on its own index. The window's end
    is kept off the indexes (`+`): SQLite then walks (state, created_at) newest first and
    stops after a page, instead of sorting every live listing (bench/market_search.py)."""
    conditions = [f"{alias}.state = 'active'", f"+{alias}.available_until >= ?"]
    params: list[object] = [today.isoformat()]
    if filters.category:
        conditions.append(f"{alias}.category = ?")
        params.append(filters.category)
    if filters.place:
        conditions.append(f"substr({alias}.village_code, 1, ?) = ?")
        params += [len(filters.place), filters.place]
    if filters.min_fen is not None:
        conditions.append(f"{alias}.price_fen >= ?")
        params.append(filters.min_fen)
    if filters.max_fen is not None:
        conditions.append(f"{alias}.price_fen <= ?")
        params.append(filters.max_fen)
    if filters.side:
        conditions.append(f"{alias}.side = ?")
        params.append(filters.side)
    if filters.on_day is not None:
        conditions.append(f"{alias}.available_from <= ? AND +{alias}.available_until >= ?")
        params += [filters.on_day.isoformat(), filters.on_day.isoformat()]
    return " AND ".join(conditions), params


# A tier with fewer live listings than this is read through the place index and sorted (it
# may be empty); a denser one is walked newest first and stops after a page.
SPARSE_TIER = 2000
PLACE_INDEX = "{table}_place"  # (state, village_code, created_at), on the edge and at central
NEWEST_INDEX = "{table}_created"  # (state, created_at)


Range = tuple[str, str, str, str]  # (lower bound's operator, lower bound, upper's, upper)


def _ranges(near: str) -> list[list[Range]]:
    """Nearest first: the same village, the rest of its township, of its county, the rest; each
    as ranges of village codes (digits: ':' sorts after '9'), so the place index reads only
    the tier's own listings."""
    township, county = near[:9], near[:6]
    return [
        [(">=", near, "<=", near)],
        [(">=", township, "<", near), (">", near, "<", f"{township}:")],
        [(">=", county, "<", township), (">=", f"{township}:", "<", f"{county}:")],
        [(">=", "", "<", county), (">=", f"{county}:", "<", "~")],
    ]


def _condition(ranges: list[Range], code: str) -> tuple[str, list[object]]:
    """The SQL of a tier's ranges (a single village as an equality: walked in order)."""
    if len(ranges) == 1 and ranges[0][1] == ranges[0][3]:
        return f"{code} = ?", [ranges[0][1]]
    parts = [f"({code} {low_op} ? AND {code} {high_op} ?)" for low_op, _l, high_op, _h in ranges]
    return f"({' OR '.join(parts)})", [bound for r in ranges for bound in (r[1], r[3])]


def _tiers(near: str, alias: str = "l") -> list[tuple[str, list[object]]]:
    return [_condition(ranges, f"{alias}.village_code") for ranges in _ranges(near)]


def tier_sizes_query(table: str, near: str) -> tuple[str, list[object]]:
    """One row: the active listings of each tier around `near`, counted range by range on the
    place index only, each range only as far as SPARSE_TIER (a big tier costs no more than a
    small one)."""
    tiers, params = [], []
    for ranges in _ranges(near):
        counts = []
        for ranged in ranges:
            condition, bounds = _condition([ranged], "village_code")
            counts.append(
                f"(SELECT count(*) FROM (SELECT 1 FROM {table} "
                f"INDEXED BY {PLACE_INDEX.format(table=table)} "
                f"WHERE state = 'active' AND {condition} LIMIT ?))"
            )
            params += [*bounds, SPARSE_TIER]
        tiers.append(" + ".join(counts))
    return f"SELECT {', '.join(tiers)}", params


def page_query(
    table: str,
    fts_table: str,
    filters: Filters,
    today: date,
    tier_sizes: Sequence[int] = (),
) -> tuple[str, list[object]]:
    """One SQL statement for a result page (and one row more, to know if another follows):
    newest first, or nearest first as one part per tier of the administrative tree, each
    stopping after the rows the page needs. With the `tier_sizes` of `tier_sizes_query`, an
    empty tier is left out and a sparse one is read through the place index (a newest-first
    walk would cross every listing to find none); never a sort of every live listing."""
    where, params = where_clause(filters, today)
    match = match_expression(filters.query)
    if match:
        where += f" AND l.rowid IN (SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH ?)"
        params.append(match)
    newest = "ORDER BY l.created_at DESC, l.id DESC"
    if not filters.near:
        sql = f"SELECT l.* FROM {table} l WHERE {where} {newest} LIMIT ? OFFSET ?"
        return sql, [*params, PAGE_SIZE + 1, filters.offset]
    parts, values = [], []
    for tier, (condition, tier_params) in enumerate(_tiers(filters.near)):
        size = tier_sizes[tier] if tier_sizes else SPARSE_TIER
        if size == 0:
            continue
        index = PLACE_INDEX if tier == 0 or size < SPARSE_TIER else NEWEST_INDEX
        hint = f"INDEXED BY {index.format(table=table)} " if tier_sizes else ""
        parts.append(
            f"SELECT {tier} AS tier, * FROM (SELECT l.* FROM {table} l {hint}"
            f"WHERE {where} AND {condition} {newest} LIMIT ?)"
        )
        values += [*params, *tier_params, filters.offset + PAGE_SIZE + 1]
    if not parts:
        return f"SELECT l.* FROM {table} l WHERE 0", []
    sql = (
        f"SELECT * FROM ({' UNION ALL '.join(parts)}) "
        "ORDER BY tier, created_at DESC, id DESC LIMIT ? OFFSET ?"
    )
    return sql, [*values, PAGE_SIZE + 1, filters.offset]


async def result_page(
    db: aiosqlite.Connection, table: str, fts_table: str, filters: Filters, today: date
) -> tuple[list[aiosqlite.Row], bool]:
    """One page of live listings and whether another follows: one query, two for nearest
    first (the tiers' sizes, then the page)."""
    sizes: list[int] = []
    if filters.near:
        probe, probe_params = tier_sizes_query(table, filters.near)
        async with db.execute(probe, probe_params) as cursor:
            row = await cursor.fetchone()
        sizes = [int(size) for size in row] if row else []
    sql, params = page_query(table, fts_table, filters, today, sizes)
    async with db.execute(sql, params) as cursor:
        rows = list(await cursor.fetchall())
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
