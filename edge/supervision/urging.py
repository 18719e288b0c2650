"""催办 and escalation: texts (and pushes) to the people who must act or answer for a step.

A 催办 is a supervisor's: to the staff who may decide the step. An escalation is the deadline
scan's, once per step red for the configured working days: to the head of the step's unit
(department head for county steps, township leader otherwise; the supervisors if no head).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from ulid import ULID

from edge.applications.tracking_code import format_code
from edge.audit.log import append as audit
from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.push import messages as push_messages
from edge.push.queries import enqueue as enqueue_push
from edge.sms.outbox import enqueue
from edge.supervision.queries import heads, insert_reminder

STAFF_LOCALE = "zh_Hans"


def unit_heads(step: Any, candidates: list[Account]) -> list[Account]:
    """The heads who answer for a step: its department's for county steps, else the township's."""
    inside = [p for p in candidates if contains(p.jurisdiction_code, step["village_code"])]
    if step["level"] == "county":
        return [
            p
            for p in inside
            if p.role == "officer" and p.department_code == step["department_code"]
        ]
    return [p for p in inside if p.role in ("township_staff", "supervisor")]


async def _supervisors(db: aiosqlite.Connection) -> list[Account]:
    async with db.execute(
        "SELECT id, phone, name, role, jurisdiction_code, department_code, active FROM accounts "
        "WHERE active = 1 AND role = 'supervisor'"
    ) as cursor:
        return [Account.from_row(row) for row in await cursor.fetchall()]


async def text_step(
    db: aiosqlite.Connection,
    step: Any,
    person: Account,
    template: str,
    dedupe_key: str,
    now: datetime,
    **extra: str,
) -> str | None:
    """One staff SMS about a step (催办, escalation, a deadline card: `extra` card=...), once
    per `dedupe_key`; the message id, None if sent before. Edge and central send through it."""
    return await enqueue(
        db,
        phone=person.phone,
        template=template,
        params={
            "item": step["item_name_zh"],
            "code": format_code(step["tracking_code"]),
            "date": step["due_on"],
            **extra,
        },
        locale=STAFF_LOCALE,
        now=now,
        application_id=step["application_id"],
        dedupe_key=dedupe_key,
    )


async def _text(
    db: aiosqlite.Connection, step: Any, people: list[Account], kind: str, key: str, now: datetime
) -> list[dict[str, str]]:
    """One SMS (and push) per person; returns who was reached, for the record."""
    reached = []
    for person in people:
        await text_step(db, step, person, kind, f"{kind}:{key}:{person.id}", now)
        await enqueue_push(db, person.id, push_messages.deadline(step, kind), now)
        reached.append({"id": person.id, "name": person.name, "role": person.role})
    return reached


async def urge(
    db: aiosqlite.Connection,
    keys_dir: Path,
    step: Any,
    by: Account,
    responsible: list[Account],
    note: str,
    now: datetime,
) -> str:
    """Record a supervisor's 催办 and text the people who must act; returns the reminder id."""
    reminder_id = str(ULID())
    reached = await _text(db, step, responsible, "urge", reminder_id, now)
    await insert_reminder(
        db,
        reminder_id=reminder_id,
        step=step,
        kind="urge",
        sent_by=by.id,
        at=stamp(now),
        recipients=reached,
        note=note,
    )
    await audit(
        db,
        keys_dir,
        actor_id=by.id,
        role=by.role,
        jurisdiction_code=by.jurisdiction_code,
        action="urge",
        object_type="step",
        object_id=step["id"],
        result="ok",
        at=stamp(now),
    )
    return reminder_id


async def escalate(db: aiosqlite.Connection, step: Any, now: datetime) -> int:
    """Escalate a step once (a second call does nothing); SMS queued."""
    people = unit_heads(step, await heads(db)) or unit_heads(step, await _supervisors(db))
    reminder_id = str(ULID())
    recorded = await insert_reminder(
        db,
        reminder_id=reminder_id,
        step=step,
        kind="escalation",
        sent_by=None,
        at=stamp(now),
        recipients=[{"id": p.id, "name": p.name, "role": p.role} for p in people],
        note="",
    )
    if not recorded:
        return 0
    await _text(db, step, people, "escalation", step["id"], now)
    return len(people)
