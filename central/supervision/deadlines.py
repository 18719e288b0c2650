"""Central's escalation scan over every township's county steps: a step red for rules.toml's
working days (on central's holiday calendar) is escalated once to its department's head.

State-based (a step escalated is recorded), so a stopped `central follow` catches up."""

from __future__ import annotations

from datetime import date, datetime

import aiosqlite

from central.supervision.queries import open_county_steps
from central.supervision.urging import escalate
from edge.supervision.cards import WorkdayIndex, red_working_days
from edge.supervision.rules import load_rules
from edge.workdays.working_days import SPAN, load_working_days

SCAN_SECONDS = 60  # how often `central follow` runs the scan


async def scan(db: aiosqlite.Connection, now: datetime, timezone: str) -> int:
    """Escalate every county step red long enough and not escalated yet; the SMS queued."""
    days = await load_working_days(db, now, timezone, 1)
    index = WorkdayIndex(days.today - SPAN, days.today + SPAN, days.exceptions)
    after = load_rules().escalate_after_red_days
    queued = 0
    for step in await open_county_steps(db):
        if red_working_days(date.fromisoformat(step["due_on"]), days.today, index) >= after:
            queued += await escalate(db, step, now)
    return queued
