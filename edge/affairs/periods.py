"""Disclosure periods: a month ('2026-11'), a quarter ('2026-Q4') or a day ('2026-11-23' for a
major matter, published at once); their labels, last days and the periods ended before a day."""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def period_end(period: str) -> date | None:
    """The last day of a period, None if it is not one."""
    if match := MONTH.match(period):
        return month_end(int(match.group(1)), int(match.group(2)))
    if match := QUARTER.match(period):
        return month_end(int(match.group(1)), int(match.group(2)) * 3)
    try:
        return date.fromisoformat(period)
    except ValueError:
        return None


def valid_period(every: str, period: str) -> bool:
    """Whether `period` names a period of this frequency."""
    if every == "month":
        return MONTH.match(period) is not None
    if every == "quarter":
        return QUARTER.match(period) is not None
    return period_end(period) is not None and MONTH.match(period) is None


def ended_before(every: str, today: date, count: int) -> list[str]:
    """The `count` periods of this frequency that ended before `today`, newest first."""
    found: list[str] = []
    year, month = today.year, today.month
    while len(found) < count:
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        if every == "month":
            found.append(f"{year:04d}-{month:02d}")
        elif every == "quarter" and month % 3 == 0:
            found.append(f"{year:04d}-Q{month // 3}")
        elif every not in ("month", "quarter"):
            break
    return found


def current(every: str, today: date) -> str:
    """The period `today` falls in (for a form's default)."""
    if every == "month":
        return f"{today.year:04d}-{today.month:02d}"
    if every == "quarter":
        return f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"
    return today.isoformat()
