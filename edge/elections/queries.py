"""SQL for election publicity: write one with its candidates, read the open ones (by date, no
job), the archive and one with its candidates."""

from __future__ import annotations

from datetime import date
from typing import Any

import aiosqlite
from ulid import ULID


async def create(
    db: aiosqlite.Connection,
    values: dict[str, Any],
    candidates: list[tuple[str, str]],
    by: str,
    now: str,
) -> str:
    """An election publicity with its (name, role) candidates; returns its id."""
    election_id = str(ULID())
    await db.execute(
        """
        INSERT INTO elections (id, village_code, title, note, starts_on, ends_on, created_by,
            created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """,
        (
            election_id,
            values["village"],
            values["title"],
            values["note"],
            values["starts_on"],
            values["ends_on"],
            by,
            now,
        ),
    )
    await db.executemany(
        "INSERT INTO election_candidates (id, election_id, position, name, role) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (str(ULID()), election_id, index, name, role)
            for index, (name, role) in enumerate(candidates)
        ],
    )
    return election_id


SELECT = """
    SELECT e.*, j.name_zh AS village_zh, j.name_en AS village_en
    FROM elections e JOIN jurisdictions j ON j.code = e.village_code
"""


async def open_on(
    db: aiosqlite.Connection, today: date, village_code: str | None
) -> list[aiosqlite.Row]:
    """Publicities running on `today` (of one village, or of every village here)."""
    async with db.execute(
        SELECT + "WHERE e.starts_on <= :today AND e.ends_on >= :today "
        "AND (:village = '' OR e.village_code = :village) ORDER BY e.ends_on",
        {"today": today.isoformat(), "village": village_code or ""},
    ) as cursor:
        return list(await cursor.fetchall())


async def archived(
    db: aiosqlite.Connection, today: date, village_code: str | None
) -> list[aiosqlite.Row]:
    """Publicities whose period ended, most recent first."""
    async with db.execute(
        SELECT + "WHERE e.ends_on < :today AND (:village = '' OR e.village_code = :village) "
        "ORDER BY e.ends_on DESC LIMIT 100",
        {"today": today.isoformat(), "village": village_code or ""},
    ) as cursor:
        return list(await cursor.fetchall())


async def get(db: aiosqlite.Connection, election_id: str) -> aiosqlite.Row | None:
    """One publicity."""
    async with db.execute(SELECT + "WHERE e.id = ?", (election_id,)) as cursor:
        return await cursor.fetchone()


async def candidates(db: aiosqlite.Connection, election_id: str) -> list[aiosqlite.Row]:
    """Its candidates in the order written."""
    async with db.execute(
        "SELECT name, role FROM election_candidates WHERE election_id = ? ORDER BY position",
        (election_id,),
    ) as cursor:
        return list(await cursor.fetchall())
