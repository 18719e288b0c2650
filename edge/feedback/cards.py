"""Yellow and red cards of open feedback items from the working-day clock, for the staff list
and the supervision dashboard; an item red for ESCALATE_AFTER working days is escalated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import aiosqlite

from edge.feedback import queries
from edge.workdays.queries import exceptions_between
from edge.workdays.working_days import SPAN, WorkingDays

ESCALATE_AFTER = 3  # working days red before the supervisor is told (as for applications)
WARNING_DAYS = 1


@dataclass(frozen=True)
class Card:
    """An open item that is due soon (yellow) or overdue (red)."""

    item_id: str
    village_code: str
    department_code: str
    kind: str
    due_on: str
    card: str
    days_overdue: int


def card_of(days: WorkingDays, due_on: str) -> tuple[str, int]:
    """(green | yellow | red, working days overdue)."""
    card = days.card(due_on)
    overdue = days.elapsed(due_on) if card == "red" else 0
    return card, overdue


async def open_cards(db: aiosqlite.Connection, today: date, village_prefix: str) -> list[Card]:
    """Every yellow or red card of open items in villages under `village_prefix` (two
    queries), red first."""
    days = WorkingDays(
        today, await exceptions_between(db, today - SPAN, today + SPAN), WARNING_DAYS
    )
    cards = []
    for row in await queries.open_items(db, village_prefix):
        card, overdue = card_of(days, row["due_on"])
        if card != "green":
            cards.append(
                Card(
                    row["id"],
                    row["village_code"],
                    row["department_code"],
                    row["kind"],
                    row["due_on"],
                    card,
                    overdue,
                )
            )
    return sorted(cards, key=lambda c: (c.card != "red", c.due_on))
