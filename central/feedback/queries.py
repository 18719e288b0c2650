"""SQL over the ingested feedback items: a department's items, one item, the answers sent down
the feed and what the township did with them, and the public listing Open311 reads."""

from __future__ import annotations

from typing import Any

import aiosqlite

from edge.kernel.auth.account import Account

# `f` is edge_feedback; v its village, tw the village's township
PLACE = """
    JOIN jurisdictions v ON v.code = f.village_code
    JOIN jurisdictions tw ON tw.code = v.parent_code
"""
# the latest answer sent for the item, and the township's record of it
SENT = """
    LEFT JOIN commands c ON c.seq = (
        SELECT max(seq) FROM commands WHERE node_id = f.node_id AND kind = 'feedback_answer'
        AND json_extract(payload, '$.feedback_id') = f.id)
    LEFT JOIN edge_applied_commands ac ON ac.node_id = c.node_id AND ac.id = c.id
"""
COLUMNS = """
    f.*, v.name_zh AS village_zh, v.name_en AS village_en, tw.name_zh AS township_zh,
    tw.name_en AS township_en, c.id AS command_id, ac.result AS command_result,
    ac.detail AS command_detail
"""


async def _all(db: aiosqlite.Connection, sql: str, params: Any) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


def _officer(account: Account) -> dict[str, Any]:
    return {"county": account.jurisdiction_code, "department": account.department_code}


async def department_items(db: aiosqlite.Connection, officer: Account) -> list[aiosqlite.Row]:
    """Items routed to the officer's department from villages of their county, every node:
    open ones first by due date."""
    return await _all(
        db,
        f"""SELECT {COLUMNS} FROM edge_feedback f {PLACE} {SENT}
        WHERE f.level = 'county' AND f.department_code = :department
          AND tw.parent_code = :county
        ORDER BY f.state NOT IN ('accepted', 'transferred', 'handling'), f.due_on
        LIMIT 500""",
        _officer(officer),
    )


async def department_item(
    db: aiosqlite.Connection, officer: Account, node_id: str, item_id: str
) -> aiosqlite.Row | None:
    """One of the officer's items."""
    rows = await _all(
        db,
        f"""SELECT {COLUMNS} FROM edge_feedback f {PLACE} {SENT}
        WHERE f.node_id = :node AND f.id = :id AND f.level = 'county'
          AND f.department_code = :department AND tw.parent_code = :county""",
        {**_officer(officer), "node": node_id, "id": item_id},
    )
    return rows[0] if rows else None


async def events(db: aiosqlite.Connection, node_id: str, item_id: str) -> list[aiosqlite.Row]:
    """The item's history as ingested."""
    return await _all(
        db,
        "SELECT at, action, state, note, actor FROM edge_feedback_events "
        "WHERE node_id = ? AND feedback_id = ? ORDER BY at, id",
        (node_id, item_id),
    )


def public_filter(filters: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The WHERE clause of the public listing: never a private item."""
    where = ["f.private = 0"]
    if filters.get("service_code"):
        where.append("f.kind = :service_code")
    if filters.get("status") == "open":
        where.append("f.state IN ('accepted', 'transferred', 'handling')")
    elif filters.get("status") == "closed":
        where.append("f.state NOT IN ('accepted', 'transferred', 'handling')")
    if filters.get("start_date"):
        where.append("f.created_at >= :start_date")
    if filters.get("end_date"):
        where.append("f.created_at <= :end_date")
    return " AND ".join(where), filters


async def public_items(
    db: aiosqlite.Connection, filters: dict[str, str], limit: int
) -> list[aiosqlite.Row]:
    """Public items of every node, newest first (one query)."""
    where, params = public_filter(filters)
    return await _all(
        db,
        f"""SELECT f.*, v.name_zh AS village_zh, v.name_en AS village_en,
               d.name_zh AS department_zh, d.name_en AS department_en
        FROM edge_feedback f JOIN jurisdictions v ON v.code = f.village_code
        LEFT JOIN departments d ON d.code = f.department_code
        WHERE {where} ORDER BY f.created_at DESC, f.id DESC LIMIT :limit""",
        {**params, "limit": limit},
    )


async def public_item(db: aiosqlite.Connection, item_id: str) -> aiosqlite.Row | None:
    """One public item by its id (ids are ULIDs, unique across nodes)."""
    rows = await _all(
        db,
        """SELECT f.*, v.name_zh AS village_zh, v.name_en AS village_en,
               d.name_zh AS department_zh, d.name_en AS department_en
        FROM edge_feedback f JOIN jurisdictions v ON v.code = f.village_code
        LEFT JOIN departments d ON d.code = f.department_code
        WHERE f.id = ? AND f.private = 0""",
        (item_id,),
    )
    return rows[0] if rows else None


async def requested(db: aiosqlite.Connection, item_id: str) -> aiosqlite.Row | None:
    """An Open311 request sent down a node's feed, before its item is ingested back."""
    async with db.execute(
        "SELECT node_id, payload, created_at FROM commands WHERE kind = 'feedback_request' "
        "AND json_extract(payload, '$.feedback_id') = ?",
        (item_id,),
    ) as cursor:
        return await cursor.fetchone()


PAGE_SIZE = 20
# what the city-wide public list shows of an item (never the phone, never the original text
# when staff published an edited one: public.text picks)
LIST_COLUMNS = """
    f.node_id, f.id, f.village_code, f.kind, f.category, f.body, f.public_body, f.author_name,
    f.name_hidden, f.level, f.state, f.received_on, f.created_at, f.answer,
    v.name_zh AS village_zh, v.name_en AS village_en, tw.name_zh AS township_zh,
    tw.name_en AS township_en
"""


def city_filter(node_id: str, category: str, state: str) -> tuple[str, dict[str, str]]:
    """The WHERE clause of the city-wide public list: never a private item."""
    where = ["f.private = 0"]
    if node_id:
        where.append("f.node_id = :node")
    if category:
        where.append("f.category = :category")
    if state:
        where.append("f.state = :state")
    return " AND ".join(where), {"node": node_id, "category": category, "state": state}


async def city_page(
    db: aiosqlite.Connection, node_id: str, category: str, state: str, page: int
) -> tuple[list[aiosqlite.Row], int]:
    """One page of every township's public items, newest first, and how many match (two
    queries, whatever the page)."""
    where, params = city_filter(node_id, category, state)
    rows = await _all(
        db,
        f"""SELECT {LIST_COLUMNS} FROM edge_feedback f {PLACE} WHERE {where}
        ORDER BY f.created_at DESC, f.id DESC LIMIT :limit OFFSET :offset""",
        {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
    )
    counted = await _all(db, f"SELECT count(*) FROM edge_feedback f WHERE {where}", params)
    return rows, int(counted[0][0])
