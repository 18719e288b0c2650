"""Reading applications: one, its steps, attachments and supplements, and the queues."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from edge.applications.records import Application, Step
from edge.jurisdictions.codes import prefix_of
from edge.kernel.auth.account import Account

APPLICATION_SQL = """
    SELECT a.*, i.name_zh AS item_name_zh, i.name_en AS item_name_en, i.body AS item_body,
           v.name_zh AS village_zh, v.name_en AS village_en
    FROM applications a
    JOIN catalog_items i ON i.code = a.item_code
    JOIN jurisdictions v ON v.code = a.village_code
"""


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
    return list(await db.execute_fetchall(sql, params))  # one trip to the driver's thread


async def _application(
    db: aiosqlite.Connection, where: str, params: tuple[Any, ...]
) -> Application | None:
    row = await _one(db, APPLICATION_SQL + where, params)
    return None if row is None else Application.from_row(row)


async def application(db: aiosqlite.Connection, application_id: str) -> Application | None:
    """One application with its item and village names, or None."""
    return await _application(db, " WHERE a.id = ?", (application_id,))


async def by_tracking_code(db: aiosqlite.Connection, code: str) -> Application | None:
    """The application a tracking code names, or None."""
    return await _application(db, " WHERE a.tracking_code = ?", (code,))


async def steps(db: aiosqlite.Connection, application_id: str) -> list[Step]:
    """An application's steps in order, with department names."""
    found = await _all(
        db,
        """
        SELECT s.*, d.name_zh AS department_zh, d.name_en AS department_en
        FROM steps s JOIN departments d ON d.code = s.department_code
        WHERE s.application_id = ? ORDER BY s.stage, d.position
        """,
        (application_id,),
    )
    return [Step.from_row(row) for row in found]


async def step(db: aiosqlite.Connection, step_id: str) -> Step | None:
    """One step with its department name, or None."""
    row = await _one(
        db,
        """
        SELECT s.*, d.name_zh AS department_zh, d.name_en AS department_en
        FROM steps s JOIN departments d ON d.code = s.department_code WHERE s.id = ?
        """,
        (step_id,),
    )
    return None if row is None else Step.from_row(row)


async def attachments(db: aiosqlite.Connection, application_id: str) -> list[Any]:
    """Photos and signatures, oldest first."""
    return await _all(
        db,
        "SELECT * FROM attachments WHERE application_id = ? ORDER BY created_at, id",
        (application_id,),
    )


async def attachment(db: aiosqlite.Connection, attachment_id: str) -> Any:
    """One attachment with the village and item of its application (for access checks) and the
    content types its photo and thumbnail were recorded with."""
    return await _one(
        db,
        """
        SELECT t.*, a.village_code, a.item_code, pb.content_type,
               tb.content_type AS thumb_content_type
        FROM attachments t
        JOIN applications a ON a.id = t.application_id
        JOIN blobs pb ON pb.sha256 = t.sha256
        JOIN blobs tb ON tb.sha256 = t.thumb_sha256
        WHERE t.id = ?
        """,
        (attachment_id,),
    )


async def supplements(db: aiosqlite.Connection, application_id: str) -> list[dict[str, Any]]:
    """Supplement requests (补正), newest first, with `material_keys` as a list."""
    found = await _all(
        db,
        "SELECT * FROM supplement_requests WHERE application_id = ? ORDER BY requested_at DESC",
        (application_id,),
    )
    return [{**dict(row), "material_keys": json.loads(row["material_keys"])} for row in found]


async def seals_of(db: aiosqlite.Connection, application_id: str) -> list[Any]:
    """The sealed decisions and certificates of an application."""
    return await _all(
        db,
        "SELECT id, kind, created_at FROM seals WHERE application_id = ? ORDER BY created_at",
        (application_id,),
    )


async def review_queue(db: aiosqlite.Connection, account: Account) -> list[Any]:
    """Active steps this reviewer may act on or watch, with their applications."""
    department = account.department_code if account.role == "officer" else None
    level = {"township_staff": "township", "officer": "county"}.get(account.role)
    return await _all(
        db,
        """
        SELECT s.id AS step_id, s.name_zh, s.name_en, s.due_on, s.level, s.department_code,
               a.id, a.tracking_code, a.applicant_name, a.promised_due_on, a.submitted_on,
               i.name_zh AS item_name_zh, i.name_en AS item_name_en,
               v.name_zh AS village_zh, v.name_en AS village_en
        FROM steps s
        JOIN applications a ON a.id = s.application_id
        JOIN catalog_items i ON i.code = a.item_code
        JOIN jurisdictions v ON v.code = a.village_code
        WHERE s.status = 'active' AND a.status = 'in_review'
          AND a.village_code LIKE ? || '%'
          AND (? IS NULL OR s.level = ?)
          AND (? IS NULL OR s.department_code = ?)
        ORDER BY s.due_on, a.submitted_at
        """,
        (prefix_of(account.jurisdiction_code), level, level, department, department),
    )


async def village_applications(
    db: aiosqlite.Connection, village_code: str, limit: int = 50
) -> list[Any]:
    """A village's applications, those waiting for the agent (returned) first."""
    return await _all(
        db,
        """
        SELECT a.id, a.tracking_code, a.applicant_name, a.status, a.submitted_on,
               a.promised_due_on, i.name_zh AS item_name_zh, i.name_en AS item_name_en
        FROM applications a JOIN catalog_items i ON i.code = a.item_code
        WHERE a.village_code = ?
        ORDER BY a.status != 'returned', a.submitted_at DESC LIMIT ?
        """,
        (village_code, limit),
    )
