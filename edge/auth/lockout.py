"""Login rate limit: after N failures for a phone number, refuse it for M minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from edge.clock import stamp


async def locked_until(db: aiosqlite.Connection, phone: str, now: datetime) -> datetime | None:
    """When the lock on `phone` ends, if it is locked now."""
    async with db.execute(
        "SELECT locked_until FROM login_failures WHERE phone = ? AND locked_until > ?",
        (phone, stamp(now)),
    ) as cursor:
        row = await cursor.fetchone()
    return datetime.fromisoformat(row["locked_until"]) if row else None


async def record_failure(
    db: aiosqlite.Connection, phone: str, now: datetime, max_failures: int, minutes: int
) -> bool:
    """Count a failed attempt; lock the phone when it reaches the limit. True if now locked."""
    lock_until = stamp(now + timedelta(minutes=minutes))
    async with db.execute(
        """
        INSERT INTO login_failures (phone, failures, locked_until) VALUES (?, 1, NULL)
        ON CONFLICT (phone) DO UPDATE SET
            failures = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failures + 1 END,
            locked_until = NULL
        RETURNING failures
        """,
        (phone,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None and row["failures"] >= max_failures:
        await db.execute(
            "UPDATE login_failures SET locked_until = ? WHERE phone = ?", (lock_until, phone)
        )
        return True
    return False


async def clear(db: aiosqlite.Connection, phone: str) -> None:
    """Forget failures after a successful login."""
    await db.execute("DELETE FROM login_failures WHERE phone = ?", (phone,))
