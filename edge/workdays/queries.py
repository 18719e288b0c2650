"""The calendar_days table: read exceptions, seed them from chinesecalendar, edit one day."""

from __future__ import annotations

from datetime import date

import aiosqlite
from chinese_calendar import constants

UPSERT = """
    INSERT INTO calendar_days (day, is_workday, note) VALUES (?, ?, ?)
    ON CONFLICT (day) DO UPDATE SET is_workday = excluded.is_workday, note = excluded.note
    WHERE is_workday != excluded.is_workday OR note != excluded.note
"""


def package_exceptions(years: range) -> dict[date, tuple[bool, str]]:
    """Weekday holidays and weekend make-up days the package knows for `years`, with names."""
    found: dict[date, tuple[bool, str]] = {}
    for is_work, days in ((False, constants.holidays), (True, constants.workdays)):
        for day, english in days.items():
            if day.year in years and (day.weekday() < 5) != is_work:
                found[day] = (is_work, constants.Holiday(english).chinese)
    return found


async def exceptions_between(db: aiosqlite.Connection, start: date, end: date) -> dict[date, bool]:
    """The exceptions to Monday-Friday from `start` to `end`, both included."""
    async with db.execute(
        "SELECT day, is_workday FROM calendar_days WHERE day BETWEEN ? AND ?",
        (start.isoformat(), end.isoformat()),
    ) as cursor:
        rows = await cursor.fetchall()
    return {date.fromisoformat(row["day"]): bool(row["is_workday"]) for row in rows}


async def seed_from_package(db: aiosqlite.Connection, years: range) -> int:
    """Write the package's exceptions for `years` (unknown years are skipped); rows changed."""
    rows = [
        (day.isoformat(), int(is_work), note)
        for day, (is_work, note) in sorted(package_exceptions(years).items())
    ]
    if not rows:
        return 0
    async with db.executemany(UPSERT, rows) as cursor:
        return cursor.rowcount


async def set_day(db: aiosqlite.Connection, day: date, is_workday: bool, note: str) -> None:
    """Record a central admin's decision about one day."""
    await db.execute(UPSERT, (day.isoformat(), int(is_workday), note))
