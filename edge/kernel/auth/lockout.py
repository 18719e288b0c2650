"""Attempt limits (login, tracking details): N tries per key, then a lock for M minutes.

An attempt is counted before the secret is checked, in one write transaction, so a burst of
parallel requests cannot slip more than N checks past the limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from edge.kernel.clock import stamp


async def begin_attempt(
    db: aiosqlite.Connection, key: str, now: datetime, max_attempts: int, minutes: int
) -> datetime | None:
    """Count an attempt; return when the lock ends if `key` is locked (then nothing may be tried).

    The attempt that reaches the limit sets the lock but may still be checked; a success
    clears everything.
    """
    at = stamp(now)
    async with db.execute(
        """
        INSERT INTO login_failures (phone, failures, locked_until) VALUES (:key, 1, NULL)
        ON CONFLICT (phone) DO UPDATE SET
            failures = CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failures + 1 END,
            locked_until = NULL
        WHERE locked_until IS NULL OR locked_until <= :at
        RETURNING failures
        """,
        {"key": key, "at": at},
    ) as cursor:
        counted = await cursor.fetchone()
    if counted is None:
        async with db.execute(
            "SELECT locked_until FROM login_failures WHERE phone = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None  # the upsert skipped the row: it exists and is locked
        return datetime.fromisoformat(row["locked_until"])
    if counted["failures"] >= max_attempts:
        await db.execute(
            "UPDATE login_failures SET locked_until = ? WHERE phone = ?",
            (stamp(now + timedelta(minutes=minutes)), key),
        )
    return None


async def is_locked(db: aiosqlite.Connection, key: str, now: datetime) -> bool:
    """Whether `key` is locked at `now` (after its failed attempt was counted)."""
    async with db.execute(
        "SELECT 1 FROM login_failures WHERE phone = ? AND locked_until > ?", (key, stamp(now))
    ) as cursor:
        return await cursor.fetchone() is not None


async def clear(db: aiosqlite.Connection, key: str) -> None:
    """Forget attempts after a success."""
    await db.execute("DELETE FROM login_failures WHERE phone = ?", (key,))
