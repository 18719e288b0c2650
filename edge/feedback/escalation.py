"""The feedback deadline scan: a yellow or red card texts the township staff once per item and
card; an item red for ESCALATE_AFTER working days is escalated to the township's supervisors
(once), as applications are. State-based, so a missed run loses nothing."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from edge.applications.tracking_code import format_code
from edge.feedback import queries
from edge.feedback.cards import ESCALATE_AFTER, card_of
from edge.feedback.lifecycle import RESIDENT_LOCALE, kind_name
from edge.feedback.routing import TOWNSHIP
from edge.jurisdictions.codes import contains
from edge.kernel.clock import stamp
from edge.sms.outbox import enqueue
from edge.workdays.working_days import load_working_days


async def _people(db: aiosqlite.Connection, role: str) -> list[aiosqlite.Row]:
    async with db.execute(
        "SELECT id, phone, jurisdiction_code FROM accounts WHERE active = 1 AND role = ?",
        (role,),
    ) as cursor:
        return list(await cursor.fetchall())


async def _text(
    db: aiosqlite.Connection, row: aiosqlite.Row, card: str, phone: str, key: str, now: datetime
) -> int:
    queued = await enqueue(
        db,
        phone=phone,
        template="deadline",
        params={
            "item": kind_name(row["kind"], RESIDENT_LOCALE),
            "code": format_code(row["tracking_code"]),
            "date": row["due_on"],
            "card": card,
        },
        locale=RESIDENT_LOCALE,
        now=now,
        dedupe_key=key,
    )
    return 0 if queued is None else 1


async def scan(db: aiosqlite.Connection, now: datetime, timezone: str, warning_days: int) -> int:
    """Remind and escalate; how many SMS were queued."""
    days = await load_working_days(db, now, timezone, warning_days)
    staff, supervisors = await _people(db, "township_staff"), await _people(db, "supervisor")
    queued = 0
    for row in await queries.open_items(db, ""):
        card, overdue = card_of(days, row["due_on"])
        if card == "green":
            continue
        if row["level"] == TOWNSHIP:
            for person in staff:
                if contains(person["jurisdiction_code"], row["village_code"]):
                    key = f"feedback:{row['id']}:{row['due_on']}:{card}:{person['id']}"
                    queued += await _text(db, row, card, person["phone"], key, now)
        if overdue >= ESCALATE_AFTER and not row["escalated_at"]:
            at = stamp(now)
            await queries.update(db, row["id"], {"escalated_at": at})
            await queries.add_event(db, row["id"], at, "escalated", row["state"], "", "")
            for person in supervisors:
                if contains(person["jurisdiction_code"], row["village_code"]):
                    key = f"feedback:{row['id']}:escalated:{person['id']}"
                    queued += await _text(db, row, "red", person["phone"], key, now)
    return queued
