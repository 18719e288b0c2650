"""Working days as one request counts them: today, the holiday calendar's exceptions, the window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import aiosqlite

from edge.workdays import arithmetic
from edge.workdays.local import local_today
from edge.workdays.queries import exceptions_between

SPAN = timedelta(days=400)


@dataclass(frozen=True)
class WorkingDays:
    """Due dates and cards as seen on `today`."""

    today: date
    exceptions: Mapping[date, bool]
    warning_days: int

    def due(self, start: date | str, days: int) -> date:
        """The date `days` working days after `start`."""
        return arithmetic.add_working_days(_day(start), days, self.exceptions)

    def elapsed(self, since: date | str) -> int:
        """Working days from `since` to today (time paused for a supplement)."""
        return arithmetic.working_days_between(_day(since), self.today, self.exceptions)

    def card(self, due_on: date | str) -> str:
        """green, yellow (due within the warning window) or red (overdue)."""
        return arithmetic.card(_day(due_on), self.today, self.warning_days, self.exceptions)


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


async def load_working_days(
    db: aiosqlite.Connection, now: datetime, timezone: str, warning_days: int
) -> WorkingDays:
    """Today's working days, with the exceptions of a year either side (one query)."""
    today = local_today(now, timezone)
    exceptions = await exceptions_between(db, today - SPAN, today + SPAN)
    return WorkingDays(today, exceptions, warning_days)
