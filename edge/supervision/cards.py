"""Yellow and red cards for steps and for an application's promised limit (rules.toml + setting).

Yellow when at most `days_before` working days remain or at most `share` of the limit remains;
red once the due date has passed. Counting uses the working-day calendar (holidays, 调休).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from edge.workdays.arithmetic import is_workday

ONE_DAY = timedelta(days=1)


class WorkdayIndex:
    """Working days between two dates in O(1): a running count over a span of the calendar."""

    def __init__(self, start: date, end: date, exceptions: Mapping[date, bool]) -> None:
        self.start = start
        self.exceptions = exceptions
        self.counts = [0]
        day = start
        while day <= end:
            self.counts.append(self.counts[-1] + is_workday(day, exceptions))
            day += ONE_DAY

    def _upto(self, day: date) -> int:
        """Working days d with start <= d <= day (beyond the span: counted day by day)."""
        offset = (day - self.start).days
        if offset < 0:
            return -sum(
                is_workday(self.start - ONE_DAY * k, self.exceptions) for k in range(1, -offset + 1)
            )
        if offset + 1 < len(self.counts):
            return self.counts[offset + 1]
        extra = sum(
            is_workday(self.start + ONE_DAY * k, self.exceptions)
            for k in range(len(self.counts) - 1, offset + 1)
        )
        return self.counts[-1] + extra

    def between(self, start: date, end: date) -> int:
        """How many working days d there are with start < d <= end (0 if end <= start)."""
        if end <= start:
            return 0
        return self._upto(end) - self._upto(start)


@dataclass(frozen=True)
class CardRule:
    """When a card turns yellow: days before the due date, or share of the limit left."""

    days_before: int
    share: float

    def card(self, due_on: date, limit_days: int, today: date, index: WorkdayIndex) -> str:
        """green, yellow or red for work due on `due_on` with a limit of `limit_days`."""
        if today > due_on:
            return "red"
        remaining = index.between(today, due_on)
        if remaining <= self.days_before or remaining <= self.share * limit_days:
            return "yellow"
        return "green"


def red_working_days(due_on: date, today: date, index: WorkdayIndex) -> int:
    """For how many working days a step has been overdue (0 while not red)."""
    return index.between(due_on, today)


WORST = {"green": 0, "yellow": 1, "red": 2}


def worst(cards: list[str]) -> str:
    """The worst of several cards (green when there are none)."""
    return max(cards, key=WORST.__getitem__, default="green")
