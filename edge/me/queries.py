"""What a resident's page lists: the applications and 我有话说 items of their phone number."""

from __future__ import annotations

from typing import Any

import aiosqlite

SHOWN = 50


async def applications(db: aiosqlite.Connection, phone: str) -> list[Any]:
    """The newest applications made for this phone, with the item's names and the newest
    village certificate's seal id (or NULL)."""
    async with db.execute(
        "SELECT a.id, a.tracking_code, a.status, a.submitted_on, a.promised_due_on, "
        "i.name_zh, i.name_en, (SELECT s.id FROM seals s WHERE s.application_id = a.id "
        "AND s.kind = 'village_certificate' ORDER BY s.created_at DESC LIMIT 1) AS certificate_id "
        "FROM applications a JOIN catalog_items i ON i.code = a.item_code "
        "WHERE a.applicant_phone = ? ORDER BY a.submitted_at DESC LIMIT ?",
        (phone, SHOWN),
    ) as cursor:
        return list(await cursor.fetchall())


async def feedback(db: aiosqlite.Connection, phone: str) -> list[Any]:
    """The newest 我有话说 items this phone raised."""
    async with db.execute(
        "SELECT tracking_code, state, created_at, substr(body, 1, 40) AS opening FROM feedback "
        "WHERE author_phone = ? ORDER BY created_at DESC LIMIT ?",
        (phone, SHOWN),
    ) as cursor:
        return list(await cursor.fetchall())
