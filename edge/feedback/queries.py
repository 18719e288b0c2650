"""SQL over feedback items and their history: insert, one item, the public list, staff lists,
state changes, counts per unit for the supervision dashboard, and the anti-spam counts."""

from __future__ import annotations

from typing import Any

import aiosqlite
from ulid import ULID

PAGE_SIZE = 20
# the columns a public page may show (never the phone, never the original text)
PUBLIC_COLUMNS = """
    f.id, f.village_code, f.kind, f.category, f.channel, f.body, f.public_body, f.author_name,
    f.name_hidden, f.private, f.photo_sha256, f.photo_hidden, f.department_code, f.level,
    f.state, f.received_on, f.due_on, f.created_at, f.answer, f.answered_by, f.answered_at,
    f.rating_level, f.reopened, v.name_zh AS village_zh, v.name_en AS village_en,
    d.name_zh AS department_zh, d.name_en AS department_en
"""
JOINS = """
    JOIN jurisdictions v ON v.code = f.village_code
    LEFT JOIN departments d ON d.code = f.department_code
"""


async def _one(db: aiosqlite.Connection, sql: str, params: Any) -> aiosqlite.Row | None:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: Any) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def insert(db: aiosqlite.Connection, row: dict[str, Any]) -> None:
    """Add a new item (every column named in `row`)."""
    columns = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    await db.execute(f"INSERT INTO feedback ({columns}) VALUES ({marks})", row)


async def update(db: aiosqlite.Connection, item_id: str, changes: dict[str, Any]) -> None:
    """Change some columns of one item."""
    sets = ", ".join(f"{name} = :{name}" for name in changes)
    await db.execute(f"UPDATE feedback SET {sets} WHERE id = :id", {**changes, "id": item_id})


async def add_event(
    db: aiosqlite.Connection, item_id: str, at: str, action: str, state: str, note: str, actor: str
) -> None:
    """One line of the item's history."""
    await db.execute(
        "INSERT INTO feedback_events (id, feedback_id, at, action, state, note, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (str(ULID()), item_id, at, action, state, note, actor),
    )


async def item(db: aiosqlite.Connection, item_id: str) -> aiosqlite.Row | None:
    """One item with every column, its village and department names."""
    return await _one(
        db,
        f"""SELECT f.*, v.name_zh AS village_zh, v.name_en AS village_en,
               d.name_zh AS department_zh, d.name_en AS department_en
        FROM feedback f {JOINS} WHERE f.id = ?""",
        (item_id,),
    )


async def by_code(db: aiosqlite.Connection, code: str) -> aiosqlite.Row | None:
    """The item of a tracking code."""
    found = await _one(db, "SELECT id FROM feedback WHERE tracking_code = ?", (code,))
    return None if found is None else await item(db, found["id"])


async def events(db: aiosqlite.Connection, item_id: str) -> list[aiosqlite.Row]:
    """The item's history, oldest first."""
    return await _all(
        db,
        "SELECT at, action, state, note, actor FROM feedback_events "
        "WHERE feedback_id = ? ORDER BY at, id",
        (item_id,),
    )


def _public_filter(village: str, kind: str, state: str) -> tuple[str, dict[str, str]]:
    where = ["f.private = 0"]
    params = {"village": village, "kind": kind, "state": state}
    if village:
        where.append("f.village_code = :village")
    if kind:
        where.append("f.kind = :kind")
    if state:
        where.append("f.state = :state")
    return " AND ".join(where), params


async def public_page(
    db: aiosqlite.Connection, village: str, kind: str, state: str, page: int
) -> tuple[list[aiosqlite.Row], int]:
    """One page of public items (newest first) and how many match: two queries."""
    where, params = _public_filter(village, kind, state)
    rows = await _all(
        db,
        f"SELECT {PUBLIC_COLUMNS} FROM feedback f {JOINS} WHERE {where} "
        "ORDER BY f.created_at DESC, f.id DESC LIMIT :limit OFFSET :offset",
        {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE},
    )
    total = await _one(db, f"SELECT count(*) FROM feedback f WHERE {where}", params)
    return rows, int(total[0]) if total else 0


async def staff_list(db: aiosqlite.Connection, prefix: str, state: str) -> list[aiosqlite.Row]:
    """Items of the villages under `prefix` (all states, or one), open ones by due date first."""
    where = "f.village_code LIKE :prefix"
    if state == "open":
        where += " AND f.state IN ('accepted', 'transferred', 'handling')"
    elif state:
        where += " AND f.state = :state"
    return await _all(
        db,
        f"""SELECT {PUBLIC_COLUMNS}, f.tracking_code, f.urge_count, f.escalated_at
        FROM feedback f {JOINS} WHERE {where}
        ORDER BY f.state NOT IN ('accepted', 'transferred', 'handling'), f.due_on,
                 f.created_at DESC LIMIT 500""",
        {"prefix": prefix + "%", "state": state},
    )


async def open_items(db: aiosqlite.Connection, prefix: str) -> list[aiosqlite.Row]:
    """Items still waiting for an answer in the villages under `prefix`, by due date."""
    return await _all(
        db,
        f"""SELECT {PUBLIC_COLUMNS}, f.tracking_code, f.urge_count, f.escalated_at
        FROM feedback f {JOINS}
        WHERE f.village_code LIKE ? AND f.state IN ('accepted', 'transferred', 'handling')
        ORDER BY f.due_on""",
        (prefix + "%",),
    )


async def counts(
    db: aiosqlite.Connection, prefix: str, since: str, until: str
) -> list[aiosqlite.Row]:
    """Items received in [since, until) per village, department and state: the dashboard's
    counts per unit and period (one query)."""
    return await _all(
        db,
        """SELECT village_code, department_code, state, count(*) AS items,
               sum(CASE WHEN answered_at IS NOT NULL AND substr(answered_at, 1, 10) <= due_on
                   THEN 1 ELSE 0 END) AS answered_on_time
        FROM feedback WHERE village_code LIKE ? AND received_on >= ? AND received_on < ?
        GROUP BY village_code, department_code, state""",
        (prefix + "%", since, until),
    )


async def recent_from_source(db: aiosqlite.Connection, source: str, since: str) -> int:
    """How many items one address submitted since `since`."""
    row = await _one(
        db,
        "SELECT count(*) FROM feedback_submissions WHERE source = ? AND at >= ?",
        (source, since),
    )
    return int(row[0]) if row else 0


async def recent_from_phone(db: aiosqlite.Connection, phone: str, since: str) -> int:
    """How many items one phone number submitted since `since`."""
    row = await _one(
        db,
        "SELECT count(*) FROM feedback WHERE author_phone = ? AND created_at >= ?",
        (phone, since),
    )
    return int(row[0]) if row else 0


async def submitted(db: aiosqlite.Connection, submit_key: str) -> aiosqlite.Row | None:
    """The item a submission key created before (a retry), or None."""
    return await _one(
        db,
        "SELECT f.id, f.tracking_code FROM feedback_submissions s "
        "JOIN feedback f ON f.id = s.feedback_id WHERE s.submit_key = ?",
        (submit_key,),
    )


async def remember_submission(
    db: aiosqlite.Connection, submit_key: str, item_id: str, source: str, at: str
) -> None:
    """A submission's key and address (kept on this node only)."""
    await db.execute(
        "INSERT INTO feedback_submissions (submit_key, feedback_id, source, at) "
        "VALUES (?, ?, ?, ?)",
        (submit_key, item_id, source, at),
    )
