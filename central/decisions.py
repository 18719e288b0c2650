"""County decisions made at central: checked, sealed here, and sent down the owning node's feed."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from central.feed import queries as feed
from edge.applications.decision import (
    NO_SUCH_STEP,
    Decision,
    DecisionRefused,
    StepState,
    enforce,
)
from edge.applications.tracking_code import format_code
from edge.kernel.clock import stamp
from edge.kernel.i18n import lazy_gettext
from edge.kernel.masking import mask_id_number, mask_name, public_text
from edge.seals.signing import seal
from replication.feed.commands import CountyDecision, OfficerCard

PENDING = lazy_gettext("这个环节的决定已经发往乡镇，正在等待执行。")


async def open_step(db: aiosqlite.Connection, node_id: str, step_id: str) -> aiosqlite.Row | None:
    """The step with its application, as central last ingested them."""
    async with db.execute(
        """
        SELECT s.*, a.tracking_code, a.item_code, a.village_code, a.status AS app_status,
            a.applicant_name, a.applicant_id_number,
            (SELECT count(*) FROM commands c
             WHERE c.node_id = s.node_id AND c.step_id = s.id
               AND NOT EXISTS (SELECT 1 FROM edge_applied_commands ac
                               WHERE ac.node_id = c.node_id AND ac.id = c.id)) AS pending
        FROM edge_steps s
        JOIN edge_applications a ON a.node_id = s.node_id AND a.id = s.application_id
        WHERE s.node_id = ? AND s.id = ?
        """,
        (node_id, step_id),
    ) as cursor:
        return await cursor.fetchone()


async def _open_step_to_decide(
    db: aiosqlite.Connection, node_id: str, decision: Decision
) -> aiosqlite.Row:
    """The step, unless the decision may not be made on it now (DecisionRefused says why)."""
    step = await open_step(db, node_id, decision.step_id)
    if step is None:
        raise DecisionRefused(NO_SUCH_STEP)
    enforce(decision, StepState.from_row(step), step["village_code"], step["app_status"])
    if step["pending"]:
        raise DecisionRefused(PENDING)
    return step


async def decide(db: aiosqlite.Connection, keys_dir: Path, node_id: str, decision: Decision) -> str:
    """Seal the decision and append it to the node's feed (caller's transaction); command id.
    The seal carries the opinion in its public form; the township's step gets it as written."""
    step = await _open_step_to_decide(db, node_id, decision)
    officer, now = decision.by, stamp(decision.at)
    payload = {
        "node_id": node_id,
        "application_id": step["application_id"],
        "step_id": step["id"],
        "tracking_code": format_code(step["tracking_code"]),
        "item_code": step["item_code"],
        "applicant": mask_name(step["applicant_name"]),
        "id_number": mask_id_number(step["applicant_id_number"]),
        "action": decision.outcome,
        "opinion": public_text(decision.opinion.strip()),
        "department": step["department_code"],
        "county": officer.jurisdiction_code,
        "decided_at": now,
    }
    seal_id = await seal(
        db,
        keys_dir,
        office=f"{officer.jurisdiction_code}:{step['department_code']}",
        kind="county_decision",
        application_id=step["application_id"],
        payload=payload,
        now=now,
    )
    officer_card = OfficerCard(
        officer.id,
        officer.name,
        None,  # the feed carries the officer's account id, not their phone
        officer.jurisdiction_code,
        officer.department_code,
    )
    return await feed.append(
        db,
        node_id,
        CountyDecision(
            **(payload | {"opinion": decision.opinion.strip()}),
            material_keys=decision.material_keys,
            officer=officer_card,
            seal_id=seal_id,
        ),
        now,
        created_by=officer.id,
        application_id=step["application_id"],
        step_id=step["id"],
    )
