"""County decisions made at central: checked, sealed here, and sent down the owning node's feed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from central.feed import queries as feed
from edge.applications.tracking_code import format_code
from edge.kernel.auth.account import Account
from edge.kernel.i18n import _
from edge.kernel.masking import mask_id_number, mask_name
from edge.seals.signing import seal
from replication.feed.commands import CountyDecision, OfficerCard

ACTIONS = ("approve", "reject", "return")


class DecisionRefused(ValueError):
    """The officer may not make this decision now; the message says why, in their language."""


@dataclass(frozen=True)
class Decision:
    """What an officer decided on one county step of one node's application."""

    node_id: str
    step_id: str
    action: str
    opinion: str = ""
    material_keys: tuple[str, ...] = ()


async def open_step(db: aiosqlite.Connection, node_id: str, step_id: str) -> aiosqlite.Row | None:
    """The step with its application, as central last ingested them."""
    async with db.execute(
        """
        SELECT s.*, a.tracking_code, a.item_code, a.village_code, a.status AS app_status,
            a.applicant_name, a.applicant_id_number, v.parent_code AS township_code,
            t.parent_code AS county_code,
            (SELECT count(*) FROM commands c
             WHERE c.node_id = s.node_id AND c.step_id = s.id
               AND NOT EXISTS (SELECT 1 FROM edge_applied_commands ac
                               WHERE ac.node_id = c.node_id AND ac.id = c.id)) AS pending
        FROM edge_steps s
        JOIN edge_applications a ON a.node_id = s.node_id AND a.id = s.application_id
        JOIN jurisdictions v ON v.code = a.village_code
        JOIN jurisdictions t ON t.code = v.parent_code
        WHERE s.node_id = ? AND s.id = ?
        """,
        (node_id, step_id),
    ) as cursor:
        return await cursor.fetchone()


def check(step: aiosqlite.Row | None, officer: Account, decision: Decision) -> aiosqlite.Row:
    """Refuse a decision this officer may not make on this step now; return the step."""
    if step is None:
        raise DecisionRefused(_("没有这个办理环节。"))
    if officer.role != "officer" or step["department_code"] != officer.department_code:
        raise DecisionRefused(_("这个环节不归您的部门办理。"))
    if step["county_code"] != officer.jurisdiction_code:
        raise DecisionRefused(_("这件申请不在您的辖区。"))
    if step["level"] != "county" or step["status"] != "active" or step["app_status"] != "in_review":
        raise DecisionRefused(_("这个环节现在不能办理（可能已经办结或退回）。"))
    if step["pending"]:
        raise DecisionRefused(_("这个环节的决定已经发往乡镇，正在等待执行。"))
    if decision.action not in ACTIONS:
        raise DecisionRefused(_("请选择办理结果。"))
    if decision.action in ("reject", "return") and not decision.opinion.strip():
        raise DecisionRefused(_("不予批准或退回补正时必须写明理由。"))
    if decision.action == "return" and not decision.material_keys:
        raise DecisionRefused(_("退回补正时请勾选需要补正的材料。"))
    return step


async def decide(
    db: aiosqlite.Connection, keys_dir: Path, officer: Account, decision: Decision, now: str
) -> str:
    """Seal the decision and append it to the node's feed (caller's transaction); command id."""
    step = check(await open_step(db, decision.node_id, decision.step_id), officer, decision)
    payload = {
        "node_id": decision.node_id,
        "application_id": step["application_id"],
        "step_id": step["id"],
        "tracking_code": format_code(step["tracking_code"]),
        "item_code": step["item_code"],
        "applicant": mask_name(step["applicant_name"]),
        "id_number": mask_id_number(step["applicant_id_number"]),
        "action": decision.action,
        "opinion": decision.opinion.strip(),
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
        officer.phone,
        officer.jurisdiction_code,
        officer.department_code,
    )
    return await feed.append(
        db,
        decision.node_id,
        CountyDecision(
            **payload,
            material_keys=decision.material_keys,
            officer=officer_card,
            seal_id=seal_id,
        ),
        now,
        created_by=officer.id,
        application_id=step["application_id"],
        step_id=step["id"],
    )
