"""Every change to an application: submit, decide, return, resubmit, withdraw.

Each function runs inside the caller's write transaction and writes, with the change itself,
the audit row, the SMS to send and the seal of a decision, so all of it commits or none does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from ulid import ULID

from edge.applications import queries, states
from edge.applications.decision import NO_SUCH_STEP, Decision, DecisionRefused, enforce
from edge.applications.records import Application, Step
from edge.applications.tracking_code import format_code, new_code
from edge.audit.log import append as audit
from edge.catalog.item import CatalogItem
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.masking import mask_id_number, mask_name, public_text
from edge.push import messages as push_messages
from edge.push.queries import enqueue as enqueue_push
from edge.ratings.invitations import Invitation, invite, link
from edge.seals.certificate import certificate_payload
from edge.seals.signing import seal
from edge.sms.outbox import enqueue as enqueue_sms
from edge.workdays.working_days import WorkingDays

RESIDENT_LOCALE = "zh_Hans"


@dataclass(frozen=True)
class Applicant:
    """The resident the agent applies for."""

    id_number: str
    name: str
    phone: str


@dataclass(frozen=True)
class Upload:
    """A stored photo (material or signature) to attach, and its thumbnail, each with the
    content type the re-encoder gave it."""

    kind: str
    material_key: str
    sha256: str
    thumb_sha256: str
    width: int
    height: int
    content_type: str
    thumb_content_type: str

    @property
    def blobs(self) -> tuple[tuple[str, str], ...]:
        """(sha256, content type) of the photo and of its thumbnail."""
        return ((self.sha256, self.content_type), (self.thumb_sha256, self.thumb_content_type))


@dataclass(frozen=True)
class Context:
    """What every change needs: who, when, the working days, where keys live, and
    whether county steps are decided here (False on a node connected to central, whose county
    steps are decided there and arrive by the feed), and what closing an application needs to
    invite a rating."""

    actor: Account
    now: datetime
    days: WorkingDays
    keys_dir: Path
    county_steps_here: bool = True
    public_base: str = ""  # the node's public URL, for the rating link in the closing SMS
    follow_up_working_days: int = 5  # a bad rating's follow-up is due in this many
    county_follow_ups_at_central: bool = False  # a county step's follow-up is handled there

    @property
    def at(self) -> str:
        """Now as stored."""
        return stamp(self.now)


async def _audit(
    db: aiosqlite.Connection, ctx: Context, action: str, object_id: str, result: str = "ok"
) -> None:
    await audit(
        db,
        ctx.keys_dir,
        actor_id=ctx.actor.id,
        role=ctx.actor.role,
        jurisdiction_code=ctx.actor.jurisdiction_code,
        action=action,
        object_type="application",
        object_id=object_id,
        result=result,
        at=ctx.at,
    )


async def _notify(
    db: aiosqlite.Connection, ctx: Context, app: Application, template: str, link: str = ""
) -> None:
    """Queue the resident's SMS (channel of record) and, for outcomes, a push to the agent; a
    closing text carries the rating link when there is one."""
    await enqueue_sms(
        db,
        phone=app.applicant_phone,
        template=template,
        params={
            "item": app.item_name_zh,
            "code": format_code(app.tracking_code),
            "date": app.promised_due_on,
            "link": link,
        },
        locale=RESIDENT_LOCALE,
        now=ctx.now,
        application_id=app.id,
    )
    if template in ("returned", "approved", "rejected"):
        await enqueue_push(db, app.agent_id, push_messages.decision(app, template), ctx.now)


async def _attach(
    db: aiosqlite.Connection, application_id: str, uploads: list[Upload], at: str
) -> None:
    for upload in uploads:
        await db.execute(
            """
            INSERT INTO attachments (id, application_id, kind, material_key, sha256,
                thumb_sha256, width, height, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (
                str(ULID()),
                application_id,
                upload.kind,
                upload.material_key,
                upload.sha256,
                upload.thumb_sha256,
                upload.width,
                upload.height,
                at,
            ),
        )


async def submit(
    db: aiosqlite.Connection,
    ctx: Context,
    *,
    item: CatalogItem,
    village_code: str,
    applicant: Applicant,
    form_data: dict[str, Any],
    uploads: list[Upload],
) -> str:
    """Accept (受理) an application; a village-direct item is approved and certified at once."""
    application_id = str(ULID())
    today = ctx.days.today
    await db.execute(
        """
        INSERT INTO applications (id, tracking_code, item_code, village_code, agent_id,
            applicant_id_number, applicant_name, applicant_phone, form_data, status, stage,
            submitted_at, submitted_on, promised_due_on)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'in_review', 0, ?, ?, ?)
        """,
        (
            application_id,
            new_code(),
            item.code,
            village_code,
            ctx.actor.id,
            applicant.id_number,
            applicant.name,
            applicant.phone,
            json.dumps(form_data, ensure_ascii=False),
            ctx.at,
            today.isoformat(),
            ctx.days.due(today, item.promised_days).isoformat(),
        ),
    )
    for stage, route in enumerate(item.route):
        for department in route.departments:
            await db.execute(
                """
                INSERT INTO steps (id, application_id, stage, level, department_code, name_zh,
                    name_en, days, status, started_on, due_on)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    str(ULID()),
                    application_id,
                    stage,
                    route.level,
                    department,
                    route.name.zh,
                    route.name.en,
                    route.days,
                    "active" if stage == 0 else "waiting",
                    today.isoformat() if stage == 0 else None,
                    ctx.days.due(today, route.days).isoformat() if stage == 0 else None,
                ),
            )
    await _attach(db, application_id, uploads, ctx.at)
    await _audit(db, ctx, "submit", application_id)
    app = await _application(db, application_id)
    if item.mode == "direct":
        await _certify_in_village(db, ctx, app)
    else:
        await _notify(db, ctx, app, "accepted")
    return application_id


async def _application(db: aiosqlite.Connection, application_id: str) -> Application:
    app = await queries.application(db, application_id)
    if app is None:
        raise LookupError(f"no application {application_id}")
    return app


async def _certify_in_village(db: aiosqlite.Connection, ctx: Context, app: Application) -> None:
    steps = await queries.steps(db, app.id)
    await _set_step(db, ctx, steps[0], "approved", "")
    await _finish(
        db, ctx, app, "approved", "village_certificate", steps[0], "", certificate_payload(app)
    )


async def _set_step(
    db: aiosqlite.Connection, ctx: Context, step: Step, status: str, opinion: str
) -> None:
    states.check(states.STEP, step.status, status)
    await db.execute(
        "UPDATE steps SET status = ?, decided_by = ?, decided_at = ?, opinion = ? WHERE id = ?",
        (status, ctx.actor.id, ctx.at, opinion, step.id),
    )


async def _set_status(
    db: aiosqlite.Connection, app: Application, status: str, **columns: Any
) -> None:
    states.check(states.APPLICATION, app.status, status)
    assignments = "".join(f", {name} = :{name}" for name in columns)
    await db.execute(
        f"UPDATE applications SET status = :status{assignments} WHERE id = :id",
        {"status": status, "id": app.id, **columns},
    )


async def _finish(
    db: aiosqlite.Connection,
    ctx: Context,
    app: Application,
    status: str,
    kind: str,
    step: Step,
    opinion: str,
    certified: dict[str, Any] | None = None,
) -> str:
    """Close the application, cancel what is left, seal the decision (with what a village
    certificate certifies), tell the resident."""
    await _set_status(db, app, status, finished_at=ctx.at)
    await db.execute(
        "UPDATE steps SET status = 'cancelled' WHERE application_id = ? "
        "AND status IN ('waiting', 'active', 'returned')",
        (app.id,),
    )
    payload = {
        "tracking_code": format_code(app.tracking_code),
        "item_code": app.item_code,
        "item_name": app.item_name_zh,
        "applicant": mask_name(app.applicant_name),
        "id_number": mask_id_number(app.applicant_id_number),
        "decision": status,
        "office": step.department_code if step.level != "village" else app.village_code,
        "office_name": step.department_zh,
        "decided_on": ctx.days.today.isoformat(),
        "opinion": public_text(opinion),
    } | (certified or {})
    seal_id = await seal(
        db,
        ctx.keys_dir,
        office=payload["office"],
        kind=kind,
        application_id=app.id,
        payload=payload,
        now=ctx.at,
    )
    await _audit(db, ctx, status, app.id)
    token = await invite(db, _invitation(ctx, app, status, step), ctx.at)
    await _notify(db, ctx, app, status, link(ctx.public_base, token) if ctx.public_base else "")
    return seal_id


def _invitation(ctx: Context, app: Application, status: str, step: Step) -> Invitation:
    """一事一评: the applicant rates the unit that decided (谁办理、谁负责)."""
    at_central = step.level == "county" and ctx.county_follow_ups_at_central
    return Invitation(
        application_id=app.id,
        phone=app.applicant_phone,
        village_code=app.village_code,
        office_code=step.department_code,
        office_level=step.level,
        outcome=status,
        closed_on=ctx.days.today.isoformat(),
        follow_up_days=ctx.follow_up_working_days,
        handled_at="central" if at_central else "edge",
    )


async def decide(db: aiosqlite.Connection, ctx: Context, decision: Decision) -> None:
    """The decision of a township or department step: approve, reject or return for supplement.

    Every decision passes here, made on this node or arriving from central, and is refused
    (DecisionRefused) unless its maker may decide the step and it keeps the rules of a decision.
    """
    if decision.by.id != ctx.actor.id:
        raise ValueError("a decision is taken in the context of the person who made it")
    step = await queries.step(db, decision.step_id)
    if step is None:
        raise DecisionRefused(NO_SUCH_STEP)
    app = await _application(db, step.application_id)
    enforce(decision, step, app.village_code, app.status, ctx.county_steps_here)
    if decision.outcome == "approve":
        await _approve(db, ctx, app, step, decision.opinion)
    elif decision.outcome == "reject":
        await _set_step(db, ctx, step, "rejected", decision.opinion)
        await _finish(db, ctx, app, "rejected", "decision", step, decision.opinion)
    else:
        await _return(db, ctx, app, step, decision.opinion, decision.material_keys)


async def _approve(
    db: aiosqlite.Connection, ctx: Context, app: Application, step: Step, opinion: str
) -> None:
    await _set_step(db, ctx, step, "approved", opinion)
    await _audit(db, ctx, "approve_step", app.id)
    steps = await queries.steps(db, app.id)
    stage = [s for s in steps if s.stage == step.stage]
    if any(s.status != "approved" for s in stage):
        return  # a joint review waits for every department
    following = [s for s in steps if s.stage == step.stage + 1]
    if not following:
        await _finish(db, ctx, app, "approved", "decision", step, opinion)
        return
    today = ctx.days.today
    for nxt in following:
        states.check(states.STEP, nxt.status, "active")
        await db.execute(
            "UPDATE steps SET status = 'active', started_on = ?, due_on = ? WHERE id = ?",
            (today.isoformat(), ctx.days.due(today, nxt.days).isoformat(), nxt.id),
        )
    await db.execute("UPDATE applications SET stage = ? WHERE id = ?", (step.stage + 1, app.id))


async def _return(
    db: aiosqlite.Connection,
    ctx: Context,
    app: Application,
    step: Step,
    note: str,
    material_keys: tuple[str, ...],
) -> None:
    await _set_step(db, ctx, step, "returned", note)
    await _set_status(db, app, "returned", paused_on=ctx.days.today.isoformat())
    await db.execute(
        """
        INSERT INTO supplement_requests (id, application_id, step_id, requested_by,
            requested_at, material_keys, note)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        (
            str(ULID()),
            app.id,
            step.id,
            ctx.actor.id,
            ctx.at,
            json.dumps(list(material_keys)),
            note,
        ),
    )
    await _audit(db, ctx, "return", app.id)
    await _notify(db, ctx, app, "returned")
    await _notify_materials(db, ctx, app, material_keys)


async def _notify_materials(
    db: aiosqlite.Connection, ctx: Context, app: Application, material_keys: tuple[str, ...]
) -> None:
    """一次性告知 by SMS: the names of what to bring, after the return notice."""
    names = [m.name.zh for m in app.item.materials if m.key in material_keys]
    if not names:
        return
    await enqueue_sms(
        db,
        phone=app.applicant_phone,
        template="materials",
        params={"code": format_code(app.tracking_code), "materials": "、".join(names)},
        locale=RESIDENT_LOCALE,
        now=ctx.now,
        application_id=app.id,
    )


async def resubmit(
    db: aiosqlite.Connection, ctx: Context, application_id: str, uploads: list[Upload]
) -> None:
    """The agent brings what was asked; the clock resumes, shifted by the paused working days."""
    app = await _application(db, application_id)
    states.check(states.APPLICATION, app.status, "in_review")
    assert app.paused_on is not None  # only a returned application resumes: it was paused
    paused = ctx.days.elapsed(app.paused_on)
    await _set_status(
        db,
        app,
        "in_review",
        paused_on=None,
        promised_due_on=ctx.days.due(app.promised_due_on, paused).isoformat(),
    )
    for step in await queries.steps(db, application_id):
        if step.status in ("active", "returned") and step.due_on:
            if step.status == "returned":
                states.check(states.STEP, "returned", "active")
            await db.execute(
                "UPDATE steps SET status = 'active', due_on = ? WHERE id = ?",
                (ctx.days.due(step.due_on, paused).isoformat(), step.id),
            )
    await db.execute(
        "UPDATE supplement_requests SET resolved_at = ? WHERE application_id = ? "
        "AND resolved_at IS NULL",
        (ctx.at, application_id),
    )
    await _attach(db, application_id, uploads, ctx.at)
    await _audit(db, ctx, "resubmit", application_id)


async def withdraw(
    db: aiosqlite.Connection, ctx: Context, application_id: str, reason: str
) -> None:
    """The applicant withdraws through the agent, for one of `states.WITHDRAW_REASONS`; open
    steps are cancelled."""
    if reason not in states.WITHDRAW_REASONS:
        raise ValueError(f"unknown withdrawal reason {reason!r}")
    app = await _application(db, application_id)
    await _set_status(
        db, app, "withdrawn", finished_at=ctx.at, paused_on=None, withdrawn_reason=reason
    )
    await db.execute(
        "UPDATE steps SET status = 'cancelled' WHERE application_id = ? "
        "AND status IN ('waiting', 'active', 'returned')",
        (application_id,),
    )
    await _audit(db, ctx, "withdraw", application_id)
