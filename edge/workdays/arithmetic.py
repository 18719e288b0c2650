"""Working-day arithmetic on plain dates; `exceptions` overrides Monday-Friday (True = work)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from babel.support import LazyProxy

from edge.kernel.i18n import lazy_gettext

ONE_DAY = timedelta(days=1)

CARD_LABELS: dict[str, LazyProxy] = {
    "green": lazy_gettext("正常"),
    "yellow": lazy_gettext("黄牌：即将到期"),
    "red": lazy_gettext("红牌：已超期"),
}


def is_workday(day: date, exceptions: Mapping[date, bool]) -> bool:
    """Whether `day` is a working day: the exception if there is one, else Monday-Friday."""
    return exceptions.get(day, day.weekday() < 5)


def add_working_days(start: date, days: int, exceptions: Mapping[date, bool]) -> date:
    """The due date `days` working days after `start` (counting starts the day after).

    With days=0: `start` if it is a working day, else the next working day.
    """
    if days < 0:
        raise ValueError(f"days must not be negative: {days}")
    day = start
    if days == 0:
        while not is_workday(day, exceptions):
            day += ONE_DAY
        return day
    while days:
        day += ONE_DAY
        days -= is_workday(day, exceptions)
    return day


def working_days_between(start: date, end: date, exceptions: Mapping[date, bool]) -> int:
    """How many working days d there are with start < d <= end (0 if end <= start)."""
    count = 0
    day = start + ONE_DAY
    while day <= end:
        count += is_workday(day, exceptions)
        day += ONE_DAY
    return count


def card(due_on: date, today: date, warning_days: int, exceptions: Mapping[date, bool]) -> str:
    """Red when overdue, yellow when due within `warning_days` working days, else green."""
    if today > due_on:
        return "red"
    if working_days_between(today, due_on, exceptions) <= warning_days:
        return "yellow"
    return "green"


# Queues list red cards first, then yellow, then the rest.
CARD_ORDER = {"red": 0, "yellow": 1, "green": 2}
