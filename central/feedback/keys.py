"""Open311 API keys: made by a central admin, shown once, stored as their sha256; revoked, not
deleted; each allows `per_hour` POSTed requests in any hour (the uses table keeps that hour)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import aiosqlite
from ulid import ULID

from edge.kernel.clock import stamp

DEFAULT_PER_HOUR = 60
MAX_PER_HOUR = 3600
WINDOW = timedelta(hours=1)


def digest(raw: str) -> str:
    """What the table keeps of a key."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def create(
    db: aiosqlite.Connection,
    name: str,
    created_by: str,
    now: str,
    per_hour: int = DEFAULT_PER_HOUR,
) -> str:
    """A new key for the client `name`; the raw key is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    await db.execute(
        "INSERT INTO open311_keys (id, name, key_hash, created_at, created_by, per_hour) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (str(ULID()), name, digest(raw), now, created_by, per_hour),
    )
    return raw


async def active_key(db: aiosqlite.Connection, raw: str) -> aiosqlite.Row | None:
    """The row of an active key (id, name, per_hour), None for an unknown or revoked one."""
    if not raw or len(raw) > 200:
        return None
    async with db.execute(
        "SELECT id, name, per_hour FROM open311_keys WHERE key_hash = ? AND active = 1",
        (digest(raw),),
    ) as cursor:
        return await cursor.fetchone()


async def all_keys(db: aiosqlite.Connection, now: datetime) -> list[aiosqlite.Row]:
    """Every key, active ones first, with its requests in the last hour (one query)."""
    async with db.execute(
        """SELECT k.id, k.name, k.created_at, k.per_hour, k.active, k.revoked_at,
               coalesce(c.name, k.created_by) AS created_by, r.name AS revoked_by,
               (SELECT count(*) FROM open311_key_uses u WHERE u.key_id = k.id AND u.at > ?)
                   AS used
        FROM open311_keys k LEFT JOIN accounts c ON c.id = k.created_by
        LEFT JOIN accounts r ON r.id = k.revoked_by ORDER BY k.active DESC, k.created_at DESC""",
        (stamp(now - WINDOW),),
    ) as cursor:
        return list(await cursor.fetchall())


async def revoke(db: aiosqlite.Connection, key_id: str, by: str, now: str) -> bool | None:
    """Revoke a key: True when it was active, False when it was revoked already, None when
    there is no key by that id."""
    cursor = await db.execute(
        "UPDATE open311_keys SET active = 0, revoked_at = ?, revoked_by = ? "
        "WHERE id = ? AND active = 1",
        (now, by, key_id),
    )
    if cursor.rowcount == 1:
        return True
    async with db.execute("SELECT 1 FROM open311_keys WHERE id = ?", (key_id,)) as found:
        return False if await found.fetchone() else None


async def take_turn(
    db: aiosqlite.Connection, key_id: str, per_hour: int, now: datetime
) -> int | None:
    """Count one request on the key, in the caller's write transaction; when the key has used
    its hour, nothing is counted and the seconds until its oldest use leaves the hour are
    returned instead."""
    since = stamp(now - WINDOW)
    await db.execute("DELETE FROM open311_key_uses WHERE key_id = ? AND at <= ?", (key_id, since))
    async with db.execute(
        "SELECT count(*), min(at) FROM open311_key_uses WHERE key_id = ? AND at > ?",
        (key_id, since),
    ) as cursor:
        used, oldest = await cursor.fetchone()  # type: ignore[misc]
    if used >= per_hour:
        free_at = datetime.fromisoformat(oldest) + WINDOW
        return max(1, int((free_at - now).total_seconds()) + 1)
    await db.execute(
        "INSERT INTO open311_key_uses (key_id, at) VALUES (?, ?)", (key_id, stamp(now))
    )
    return None
