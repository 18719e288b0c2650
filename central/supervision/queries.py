"""SQL of central's supervision pages over the `edge_*` copies: a step, its file, reminders,
names of places, departments and people (central's own accounts and the edges'); the
reminders central sends on county steps and whom they reach."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from edge.kernel.auth.account import Account


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def step(db: aiosqlite.Connection, node_id: str, step_id: str) -> Any | None:
    """One node's step joined with its application and item."""
    rows = await _all(
        db,
        """
        SELECT s.id, s.node_id, s.level, s.department_code, s.status, s.due_on, s.days,
               s.started_on, s.name_zh, s.name_en, s.decided_at, s.decided_by,
               a.id AS application_id, a.status AS app_status, a.village_code, a.tracking_code,
               a.applicant_name, a.submitted_on, a.promised_due_on,
               i.name_zh AS item_name_zh, i.name_en AS item_name_en
        FROM edge_steps s
        JOIN edge_applications a ON a.node_id = s.node_id AND a.id = s.application_id
        JOIN catalog_items i ON i.code = a.item_code
        WHERE s.node_id = ? AND s.id = ?
        """,
        (node_id, step_id),
    )
    return rows[0] if rows else None


PEOPLE = """
    SELECT id, name FROM accounts UNION ALL SELECT id, name FROM edge_accounts
"""


async def steps_of(db: aiosqlite.Connection, node_id: str, application_id: str) -> list[Any]:
    """Every step of an application, in order, with who decided it."""
    return await _all(
        db,
        f"SELECT s.*, p.name AS decided_by_name FROM edge_steps s "
        f"LEFT JOIN ({PEOPLE}) p ON p.id = s.decided_by "
        "WHERE s.node_id = ? AND s.application_id = ? ORDER BY s.stage, s.department_code",
        (node_id, application_id),
    )


async def supplements_of(db: aiosqlite.Connection, node_id: str, application_id: str) -> list[Any]:
    """The returns for supplement of an application, oldest first."""
    return await _all(
        db,
        "SELECT * FROM edge_supplement_requests WHERE node_id = ? AND application_id = ? "
        "ORDER BY requested_at",
        (node_id, application_id),
    )


async def reminders_of(
    db: aiosqlite.Connection, node_id: str, application_id: str
) -> list[dict[str, Any]]:
    """催办 and escalations the township recorded, oldest first."""
    rows = await _all(
        db,
        "SELECT r.id, r.node_id, r.step_id, r.application_id, r.kind, r.sent_by, r.sent_at, "
        "r.recipients, r.note, r.origin, coalesce(p.name, r.sent_by_name) AS sent_by_name "
        f"FROM edge_reminders r "
        f"LEFT JOIN ({PEOPLE}) p ON p.id = r.sent_by "
        "WHERE r.node_id = ? AND r.application_id = ? ORDER BY r.sent_at",
        (node_id, application_id),
    )
    return [{**dict(row), "recipients": json.loads(row["recipients"] or "[]")} for row in rows]


async def is_head(db: aiosqlite.Connection, account_id: str) -> bool:
    """Whether a central account heads its department."""
    rows = await _all(db, "SELECT is_head FROM accounts WHERE id = ?", (account_id,))
    return bool(rows and rows[0]["is_head"])


async def people(db: aiosqlite.Connection) -> dict[str, str]:
    """Account id -> name over central's accounts and every edge's."""
    return {row["id"]: row["name"] for row in await _all(db, PEOPLE)}


async def case_rows(db: aiosqlite.Connection, keys: list[tuple[str, str]]) -> dict[Any, Any]:
    """What a list of cases shows of each (node, application), in one query."""
    if not keys:
        return {}
    marks = ", ".join("(?, ?)" for _ in keys)
    rows = await _all(
        db,
        "SELECT a.node_id, a.id, a.tracking_code, a.applicant_name, a.village_code, a.status, "
        "i.name_zh AS item_name_zh, i.name_en AS item_name_en FROM edge_applications a "
        f"JOIN catalog_items i ON i.code = a.item_code WHERE (a.node_id, a.id) IN (VALUES {marks})",
        tuple(value for key in keys for value in key),
    )
    return {(row["node_id"], row["id"]): row for row in rows}


async def city_code(db: aiosqlite.Connection) -> str | None:
    """The city central serves: the city of its registered townships (None before any)."""
    rows = await _all(db, "SELECT substr(min(township_code), 1, 4) AS city FROM nodes")
    city = rows[0]["city"] if rows else None
    return city.ljust(12, "0") if city else None


ACCOUNT_COLUMNS = "id, phone, name, role, jurisdiction_code, department_code, active"


async def accounts_of(
    db: aiosqlite.Connection, roles: tuple[str, ...], heads_only: bool = False
) -> list[Account]:
    """Central's active accounts of these roles (only heads of departments, if asked)."""
    marks = ", ".join("?" for _ in roles)
    head = " AND is_head = 1" if heads_only else ""
    rows = await _all(
        db,
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE active = 1 AND role IN ({marks}){head}",
        roles,
    )
    return [Account.from_row(row) for row in rows]


async def central_reminders_of(
    db: aiosqlite.Connection, node_id: str, application_id: str
) -> list[dict[str, Any]]:
    """催办 and escalations sent at central, with the sender and whether the township has
    recorded them yet (`result` NULL while the feed command waits)."""
    rows = await _all(
        db,
        "SELECT r.id, r.node_id, r.step_id, r.application_id, r.kind, r.sent_by, r.sent_at, "
        "r.recipients, r.note, r.command_id, 'central' AS origin, p.name AS sent_by_name, "
        "ac.result FROM step_reminders r "
        "LEFT JOIN accounts p ON p.id = r.sent_by "
        "LEFT JOIN edge_applied_commands ac ON ac.node_id = r.node_id AND ac.id = r.command_id "
        "WHERE r.node_id = ? AND r.application_id = ? ORDER BY r.sent_at",
        (node_id, application_id),
    )
    return [{**dict(row), "recipients": json.loads(row["recipients"])} for row in rows]


async def insert_reminder(
    db: aiosqlite.Connection,
    *,
    reminder_id: str,
    step: Any,
    kind: str,
    sent_by: str | None,
    at: str,
    recipients: list[dict[str, str]],
    note: str,
    command_id: str,
) -> bool:
    """Record a reminder sent at central; False if the step was escalated here before."""
    async with db.execute(
        "INSERT INTO step_reminders (id, node_id, step_id, application_id, kind, sent_by, "
        "sent_at, recipients, note, command_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (
            reminder_id,
            step["node_id"],
            step["id"],
            step["application_id"],
            kind,
            sent_by,
            at,
            json.dumps(recipients, ensure_ascii=False),
            note,
            command_id,
        ),
    ) as cursor:
        return cursor.rowcount == 1


async def open_county_steps(db: aiosqlite.Connection) -> list[Any]:
    """Every township's active county step of an application in review, and whether central
    escalated it already (the deadline scan's rows, the shape of `step`)."""
    return await _all(
        db,
        """
        SELECT s.id, s.node_id, s.level, s.department_code, s.status, s.due_on, s.days,
               a.id AS application_id, a.status AS app_status, a.village_code, a.tracking_code,
               i.name_zh AS item_name_zh,
               EXISTS (SELECT 1 FROM step_reminders r WHERE r.node_id = s.node_id
                       AND r.step_id = s.id AND r.kind = 'escalation') AS escalated
        FROM edge_steps s
        JOIN edge_applications a ON a.node_id = s.node_id AND a.id = s.application_id
        JOIN catalog_items i ON i.code = a.item_code
        WHERE s.level = 'county' AND s.status = 'active' AND a.status = 'in_review'
          AND s.due_on IS NOT NULL
        """,
    )
