"""Central's deadline scan over every township's county steps: the officers who may decide a
yellow or red step are texted once per card, and a step red for rules.toml's working days (on
central's holiday calendar) is escalated once to its department's head.

State-based (a step escalated is recorded), so a stopped `central follow` catches up."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from central.supervision.queries import accounts_of, open_county_steps
from central.supervision.urging import escalate, remind
from edge.supervision.cards import CardRule, WorkdayIndex, red_working_days
from edge.supervision.rules import load_rules
from edge.workdays.working_days import SPAN, load_working_days

SCAN_SECONDS = 60  # how often `central follow` runs the scan


async def scan(
    db: aiosqlite.Connection, now: datetime, timezone: str, warning_days: int = 1
) -> int:
    """Remind the deciders of every yellow or red county step (once per card and officer) and
    escalate every step red long enough (once); the SMS queued."""
    days = await load_working_days(db, now, timezone, warning_days)
    index = WorkdayIndex(days.today - SPAN, days.today + SPAN, days.exceptions)
    rules = load_rules()
    rule = CardRule(warning_days, rules.yellow_share)
    officers = await accounts_of(db, ("officer",))
    queued = 0
    for step in await open_county_steps(db):
        due_on = date.fromisoformat(step["due_on"])
        card = rule.card(due_on, step["days"], days.today, index)
        if card == "green":
            continue
        queued += await remind(db, step, card, officers, now)
        red_days = red_working_days(due_on, days.today, index)
        if not step["escalated"] and red_days >= rules.escalate_after_red_days:
            queued += await escalate(db, step, now)
    return queued
