"""催办 and escalation of county steps at central: texts to the central officers who decide the
step (a supervisor's 催办) or to its department's head (a step red too long), recorded in
`step_reminders` and sent down the feed into the township's copy of the step history.

Central has no push service (its accounts have no subscriptions): SMS only.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
from ulid import ULID

from central.audit.record import record
from central.feed.queries import append as append_command
from central.supervision import queries
from edge.applications.decision import StepState, may_decide
from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.supervision.deadlines import text_card
from edge.supervision.urging import text_step
from replication.feed.commands import StepReminder


async def deciders(db: aiosqlite.Connection, step: Any) -> list[Account]:
    """Central's officers who may decide this county step now (decision.may_decide)."""
    return deciders_among(await queries.accounts_of(db, ("officer",)), step)


def deciders_among(officers: list[Account], step: Any) -> list[Account]:
    """Those of `officers` who may decide this county step now."""
    state = StepState.from_row(step)
    return [
        person
        for person in officers
        if may_decide(person, state, step["village_code"], step["app_status"])
    ]


async def heads_of(db: aiosqlite.Connection, step: Any) -> list[Account]:
    """Who answers for a county step: its department's head in the county, else the county's
    supervisors (a department without a head still reaches someone)."""
    heads = [
        person
        for person in await queries.accounts_of(db, ("officer",), heads_only=True)
        if person.department_code == step["department_code"]
        and contains(person.jurisdiction_code, step["village_code"])
    ]
    if heads:
        return heads
    return [
        person
        for person in await queries.accounts_of(db, ("supervisor",))
        if contains(person.jurisdiction_code, step["village_code"])
    ]


async def _text(
    db: aiosqlite.Connection, step: Any, people: list[Account], kind: str, key: str, now: datetime
) -> int:
    """One SMS per person, once per `key` and person; how many were queued."""
    queued = 0
    for person in people:
        queued += (
            await text_step(db, step, person, kind, f"{kind}:{key}:{person.id}", now) is not None
        )
    return queued


async def _send_down(
    db: aiosqlite.Connection,
    step: Any,
    reminder_id: str,
    kind: str,
    by: Account | None,
    people: list[Account],
    note: str,
    at: str,
) -> str:
    """The township's copy of the reminder, as a command of its feed; the command id."""
    command = StepReminder(
        node_id=step["node_id"],
        reminder_id=reminder_id,
        step_id=step["id"],
        application_id=step["application_id"],
        reminder_kind=kind,
        sent_at=at,
        sent_by_name=by.name if by else "",
        recipients=tuple(p.name for p in people),
        note=note,
    )
    return await append_command(
        db,
        step["node_id"],
        command,
        at,
        created_by=by.id if by else None,
        application_id=step["application_id"],
    )


def _card(person: Account) -> dict[str, str]:
    return {"id": person.id, "name": person.name, "role": person.role}


async def urge(
    db: aiosqlite.Connection, keys_dir: Path, step: Any, by: Account, note: str, now: datetime
) -> str:
    """A supervisor's 催办 of a county step: SMS to its deciders, recorded, sent to the
    township, audited (signed); returns the reminder id."""
    reminder_id, at = str(ULID()), stamp(now)
    people = await deciders(db, step)
    await _text(db, step, people, "urge", reminder_id, now)
    command_id = await _send_down(db, step, reminder_id, "urge", by, people, note, at)
    await queries.insert_reminder(
        db,
        reminder_id=reminder_id,
        step=step,
        kind="urge",
        sent_by=by.id,
        at=at,
        recipients=[_card(p) for p in people],
        note=note,
        command_id=command_id,
    )
    await record(db, keys_dir, by, "urge", "step", f"{step['node_id']}:{step['id']}", at)
    return reminder_id


async def remind(
    db: aiosqlite.Connection, step: Any, card: str, officers: list[Account], now: datetime
) -> int:
    """A yellow or red card of a county step: one SMS to each of `officers` who may decide it,
    once per card and officer (as the edges remind their own staff); the SMS queued."""
    queued = 0
    for person in deciders_among(officers, step):
        key = f"deadline:{step['node_id']}:{step['id']}:{card}:{person.id}"
        queued += await text_card(db, step, card, person, now, key) is not None
    return queued


async def escalate(db: aiosqlite.Connection, step: Any, now: datetime) -> int:
    """Escalate a county step once (a second call does nothing); the SMS queued."""
    reminder_id, at = str(ULID()), stamp(now)
    people = await heads_of(db, step)
    recorded = await queries.insert_reminder(
        db,
        reminder_id=reminder_id,
        step=step,
        kind="escalation",
        sent_by=None,
        at=at,
        recipients=[_card(p) for p in people],
        note="",
        command_id="",
    )
    if not recorded:
        return 0
    command_id = await _send_down(db, step, reminder_id, "escalation", None, people, "", at)
    await db.execute(
        "UPDATE step_reminders SET command_id = ? WHERE id = ?", (command_id, reminder_id)
    )
    key = f"{step['node_id']}:{step['id']}"
    return await _text(db, step, people, "escalation", key, now)
