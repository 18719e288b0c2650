"""The deadline scan: a yellow or red card on an active step texts the staff who must act, once.

The same first reminder is also pushed to their devices (SMS stays the channel of record); a
step red for rules.toml's working days is escalated to its unit's head, once (urging.escalate);
on a node connected to central, county steps are escalated at central instead.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import aiosqlite

from edge.applications.decision import StepState, may_decide
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.push import messages as push_messages
from edge.push.queries import enqueue as enqueue_push
from edge.supervision.cards import CardRule, WorkdayIndex, red_working_days
from edge.supervision.rules import load_rules
from edge.supervision.urging import escalate, text_step
from edge.workdays.working_days import SPAN, load_working_days


async def _active_steps(db: aiosqlite.Connection) -> list[Any]:
    async with db.execute(
        """
        SELECT s.id, s.level, s.department_code, s.status, s.due_on, s.days, a.id AS application_id,
               a.status AS app_status, a.village_code, a.tracking_code, a.applicant_name,
               i.name_zh AS item_name_zh
        FROM steps s JOIN applications a ON a.id = s.application_id
        JOIN catalog_items i ON i.code = a.item_code
        WHERE s.status = 'active' AND a.status = 'in_review'
        """
    ) as cursor:
        return list(await cursor.fetchall())


async def reviewers(db: aiosqlite.Connection) -> list[Account]:
    """Active township staff and officers: who may have to act on a step."""
    async with db.execute(
        "SELECT id, phone, name, role, jurisdiction_code, department_code, active FROM accounts "
        "WHERE active = 1 AND role IN ('township_staff', 'officer')"
    ) as cursor:
        return [Account.from_row(row) for row in await cursor.fetchall()]


def responsible(step: Any, reviewers: list[Account]) -> list[Account]:
    """The staff who may decide this step (decision.may_decide): township staff, or the
    department's officers (on a node without central)."""
    state = StepState.from_row(step)
    return [
        person
        for person in reviewers
        if may_decide(person, state, step["village_code"], step["app_status"])
    ]


async def text_card(
    db: aiosqlite.Connection, step: Any, card: str, person: Account, now: datetime, key: str
) -> str | None:
    """The deadline SMS of one card of one step to one person, once per `key` (this node's, or
    central's for the county steps it watches); the message id, None if sent before."""
    return await text_step(db, step, person, "deadline", key, now, card=card)


async def _remind(
    db: aiosqlite.Connection, step: Any, card: str, person: Account, now: datetime
) -> int:
    """Text one person about one card of one step, once; push it too the first time. 1 if new."""
    key = f"deadline:{step['id']}:{card}:{person.id}"
    message_id = await text_card(db, step, card, person, now, key)
    if message_id is None:
        return 0
    await enqueue_push(db, person.id, push_messages.deadline(step, card), now)
    return 1


async def scan(
    db: aiosqlite.Connection,
    now: datetime,
    timezone: str,
    warning_days: int,
    county_at_central: bool = False,
) -> int:
    """Queue one reminder per step, card and person; record the run. Returns SMS queued.
    Where county steps are decided at central (`county_at_central`), central reminds their
    officers and escalates them; this node's local officer rows cannot decide them."""
    days = await load_working_days(db, now, timezone, warning_days)
    rules = load_rules()
    index = WorkdayIndex(days.today - SPAN, days.today + SPAN, days.exceptions)
    rule = CardRule(warning_days, rules.yellow_share)
    staff = await reviewers(db)
    queued = 0
    for step in await _active_steps(db):
        due_on = date.fromisoformat(step["due_on"])
        card = rule.card(due_on, step["days"], days.today, index)
        if card == "green" or (county_at_central and step["level"] == "county"):
            continue  # a county step decided at central is reminded and escalated there
        for person in responsible(step, staff):
            queued += await _remind(db, step, card, person, now)
        if red_working_days(due_on, days.today, index) >= rules.escalate_after_red_days:
            queued += await escalate(db, step, now)
    await db.execute(
        "INSERT INTO job_runs (name, last_run_at) VALUES ('deadline_scan', ?) "
        "ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at",
        (stamp(now),),
    )
    return queued
