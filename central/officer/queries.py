"""SQL over the ingested edge rows an officer works on: the queue, one file, its photos' access."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from central.officer.records import NodeApplication
from edge.applications.records import Step
from edge.kernel.auth.account import Account

# An officer sees an application of a village in their county on which their department has a
# step; `a` is edge_applications, `tw` the village's township.
VISIBLE = """
    tw.parent_code = :county
    AND EXISTS (SELECT 1 FROM edge_steps vs WHERE vs.node_id = a.node_id
                AND vs.application_id = a.id AND vs.department_code = :department)
"""
PLACE_JOINS = """
    JOIN jurisdictions v ON v.code = a.village_code
    JOIN jurisdictions tw ON tw.code = v.parent_code
"""


def _officer(account: Account) -> dict[str, Any]:
    return {"county": account.jurisdiction_code, "department": account.department_code}


async def _all(db: aiosqlite.Connection, sql: str, params: Any) -> list[Any]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def queue(db: aiosqlite.Connection, officer: Account) -> list[Any]:
    """Active county steps of the officer's department in their county, from every node, with
    the latest decision sent for each step and what the township did with it."""
    return await _all(
        db,
        f"""
        SELECT s.node_id, s.id AS step_id, s.name_zh, s.name_en, s.due_on,
               a.id, a.tracking_code, a.applicant_name, a.promised_due_on,
               i.name_zh AS item_name_zh, i.name_en AS item_name_en,
               v.name_zh AS village_zh, v.name_en AS village_en,
               tw.name_zh AS township_zh, tw.name_en AS township_en,
               c.id AS command_id, json_extract(c.payload, '$.action') AS sent_action,
               ac.result AS command_result, ac.detail AS command_detail
        FROM edge_steps s
        JOIN edge_applications a ON a.node_id = s.node_id AND a.id = s.application_id
        JOIN catalog_items i ON i.code = a.item_code
        {PLACE_JOINS}
        LEFT JOIN commands c ON c.seq = (
            SELECT max(seq) FROM commands WHERE node_id = s.node_id AND step_id = s.id)
        LEFT JOIN edge_applied_commands ac ON ac.node_id = c.node_id AND ac.id = c.id
        WHERE s.level = 'county' AND s.status = 'active' AND a.status = 'in_review'
          AND s.department_code = :department AND tw.parent_code = :county
        ORDER BY s.due_on, a.submitted_at
        """,
        _officer(officer),
    )


async def application(
    db: aiosqlite.Connection, officer: Account, node_id: str, application_id: str
) -> NodeApplication | None:
    """One node's application with item and place names, if the officer may see it."""
    async with db.execute(
        f"""
        SELECT a.*, i.name_zh AS item_name_zh, i.name_en AS item_name_en, i.body AS item_body,
               v.name_zh AS village_zh, v.name_en AS village_en,
               tw.name_zh AS township_zh, tw.name_en AS township_en
        FROM edge_applications a
        JOIN catalog_items i ON i.code = a.item_code
        {PLACE_JOINS}
        WHERE a.node_id = :node_id AND a.id = :application_id AND {VISIBLE}
        """,
        {"node_id": node_id, "application_id": application_id, **_officer(officer)},
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else NodeApplication.from_row(row)


async def steps(db: aiosqlite.Connection, node_id: str, application_id: str) -> list[Step]:
    """The application's steps in order, with department names."""
    found = await _all(
        db,
        """
        SELECT s.*, d.name_zh AS department_zh, d.name_en AS department_en
        FROM edge_steps s JOIN departments d ON d.code = s.department_code
        WHERE s.node_id = ? AND s.application_id = ? ORDER BY s.stage, d.position
        """,
        (node_id, application_id),
    )
    return [Step.from_row(row) for row in found]


async def attachments(db: aiosqlite.Connection, node_id: str, application_id: str) -> list[Any]:
    """Photos and signatures, oldest first; `ready` once the photo and its thumbnail are in the
    store (the edge recorded the upload and central ingested that record)."""
    return await _all(
        db,
        """
        SELECT t.*, (pb.uploaded_at IS NOT NULL AND tb.uploaded_at IS NOT NULL) AS ready
        FROM edge_attachments t
        LEFT JOIN edge_blobs pb ON pb.node_id = t.node_id AND pb.sha256 = t.sha256
        LEFT JOIN edge_blobs tb ON tb.node_id = t.node_id AND tb.sha256 = t.thumb_sha256
        WHERE t.node_id = ? AND t.application_id = ? ORDER BY t.created_at, t.id
        """,
        (node_id, application_id),
    )


async def supplements(
    db: aiosqlite.Connection, node_id: str, application_id: str
) -> list[dict[str, Any]]:
    """Supplement requests (补正), newest first, with `material_keys` as a list."""
    found = await _all(
        db,
        """
        SELECT * FROM edge_supplement_requests WHERE node_id = ? AND application_id = ?
        ORDER BY requested_at DESC
        """,
        (node_id, application_id),
    )
    return [{**dict(row), "material_keys": json.loads(row["material_keys"])} for row in found]


async def decisions(db: aiosqlite.Connection, node_id: str, application_id: str) -> list[Any]:
    """County decisions sent for this application, oldest first, with the township's answer
    (`result` is NULL while the command waits to be applied)."""
    return await _all(
        db,
        """
        SELECT c.id, c.step_id, c.created_at, json_extract(c.payload, '$.action') AS action,
               json_extract(c.payload, '$.opinion') AS opinion,
               json_extract(c.payload, '$.officer.name') AS officer_name,
               s.name_zh, s.name_en, ac.result, ac.detail, ac.applied_at
        FROM commands c
        LEFT JOIN edge_steps s ON s.node_id = c.node_id AND s.id = c.step_id
        LEFT JOIN edge_applied_commands ac ON ac.node_id = c.node_id AND ac.id = c.id
        WHERE c.node_id = ? AND c.application_id = ? AND c.kind = 'county_decision'
        ORDER BY c.seq
        """,
        (node_id, application_id),
    )


async def visible_blob(
    db: aiosqlite.Connection, officer: Account, node_id: str, sha256: str
) -> Any:
    """If the blob is a photo (or thumbnail) of an application the officer may see, a row with
    the `content_type` the edge recorded it with (NULL until that record is ingested); else
    None."""
    async with db.execute(
        f"""
        SELECT b.content_type FROM edge_attachments t
        JOIN edge_applications a ON a.node_id = t.node_id AND a.id = t.application_id
        {PLACE_JOINS}
        LEFT JOIN edge_blobs b ON b.node_id = t.node_id AND b.sha256 = :sha256
        WHERE t.node_id = :node_id AND (t.sha256 = :sha256 OR t.thumb_sha256 = :sha256)
          AND {VISIBLE}
        LIMIT 1
        """,
        {"node_id": node_id, "sha256": sha256, **_officer(officer)},
    ) as cursor:
        return await cursor.fetchone()
