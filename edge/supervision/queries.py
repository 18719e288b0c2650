"""SQL of the supervision pages at the edge: a step with its file, reminders, heads, names."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from edge.kernel.auth.account import Account

STEP_ROW = """
    SELECT s.id, s.level, s.department_code, s.status, s.due_on, s.days, s.started_on,
           s.name_zh, s.name_en, s.decided_at, s.decided_by, s.opinion,
           a.id AS application_id, a.status AS app_status, a.village_code, a.tracking_code,
           a.applicant_name, a.submitted_on, a.promised_due_on, a.item_code,
           i.name_zh AS item_name_zh, i.name_en AS item_name_en
    FROM steps s JOIN applications a ON a.id = s.application_id
    JOIN catalog_items i ON i.code = a.item_code
"""


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def step(db: aiosqlite.Connection, step_id: str) -> Any | None:
    """One step joined with its application and item (the deadline scan's row shape)."""
    rows = await _all(db, STEP_ROW + " WHERE s.id = ?", (step_id,))
    return rows[0] if rows else None


async def steps_of(db: aiosqlite.Connection, application_id: str) -> list[Any]:
    """Every step of an application, in order, with who decided it."""
    return await _all(
        db,
        "SELECT s.*, p.name AS decided_by_name FROM steps s "
        "LEFT JOIN accounts p ON p.id = s.decided_by "
        "WHERE s.application_id = ? ORDER BY s.stage, s.department_code",
        (application_id,),
    )


async def supplements_of(db: aiosqlite.Connection, application_id: str) -> list[Any]:
    """The returns for supplement of an application, oldest first."""
    return await _all(
        db,
        "SELECT * FROM supplement_requests WHERE application_id = ? ORDER BY requested_at",
        (application_id,),
    )


async def reminders_of(db: aiosqlite.Connection, application_id: str) -> list[dict[str, Any]]:
    """催办 and escalations of an application, oldest first, with sender and recipients."""
    rows = await _all(
        db,
        "SELECT r.id, r.step_id, r.application_id, r.kind, r.sent_by, r.sent_at, r.recipients, "
        "r.note, r.origin, coalesce(p.name, r.sent_by_name) AS sent_by_name FROM reminders r "
        "LEFT JOIN accounts p ON p.id = r.sent_by WHERE r.application_id = ? ORDER BY r.sent_at",
        (application_id,),
    )
    return [{**dict(row), "recipients": json.loads(row["recipients"])} for row in rows]


async def heads(db: aiosqlite.Connection) -> list[Account]:
    """Active heads of units: township leaders and department heads."""
    rows = await _all(
        db,
        "SELECT id, phone, name, role, jurisdiction_code, department_code, active FROM accounts "
        "WHERE active = 1 AND is_head = 1",
    )
    return [Account.from_row(row) for row in rows]


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
    origin: str = "township",
    sent_by_name: str | None = None,
) -> bool:
    """Record a 催办 or an escalation (sent here, or at central: `origin`, the sender's
    `sent_by_name`); False if the step was escalated before or the reminder is recorded."""
    async with db.execute(
        "INSERT INTO reminders (id, step_id, application_id, kind, sent_by, sent_at, recipients, "
        "note, origin, sent_by_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            reminder_id,
            step["id"],
            step["application_id"],
            kind,
            sent_by,
            at,
            json.dumps(recipients, ensure_ascii=False),
            note,
            origin,
            sent_by_name,
        ),
    ) as cursor:
        return cursor.rowcount == 1


async def jurisdiction_names(db: aiosqlite.Connection, prefix: str) -> dict[str, Any]:
    """Code -> row (name_zh, name_en) of every jurisdiction under a prefix."""
    rows = await _all(
        db, "SELECT code, name_zh, name_en FROM jurisdictions WHERE code LIKE ?", (prefix + "%",)
    )
    return {row["code"]: row for row in rows}


async def department_names(db: aiosqlite.Connection) -> dict[str, Any]:
    """Department code -> row (name_zh, name_en)."""
    rows = await _all(db, "SELECT code, name_zh, name_en FROM departments ORDER BY position")
    return {row["code"]: row for row in rows}


async def account_names(db: aiosqlite.Connection, table: str = "accounts") -> dict[str, str]:
    """Account id -> name, for the officers' table (staff names: internal pages only)."""
    return {row["id"]: row["name"] for row in await _all(db, f"SELECT id, name FROM {table}")}


async def case_rows(db: aiosqlite.Connection, application_ids: list[str]) -> dict[str, Any]:
    """What a list of cases shows of each application (one query for the whole list)."""
    if not application_ids:
        return {}
    marks = ", ".join("?" for _ in application_ids)
    rows = await _all(
        db,
        "SELECT a.id, a.tracking_code, a.applicant_name, a.village_code, a.status, "
        "a.submitted_on, a.promised_due_on, i.name_zh AS item_name_zh, i.name_en AS item_name_en "
        f"FROM applications a JOIN catalog_items i ON i.code = a.item_code WHERE a.id IN ({marks})",
        tuple(application_ids),
    )
    return {row["id"]: row for row in rows}
