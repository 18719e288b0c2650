"""Open311 API keys: made by a central admin, shown once, stored as their sha256."""

from __future__ import annotations

import hashlib
import secrets

import aiosqlite
from ulid import ULID


def digest(raw: str) -> str:
    """What the table keeps of a key."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def create(db: aiosqlite.Connection, name: str, created_by: str, now: str) -> str:
    """A new key for the client `name`; the raw key is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    await db.execute(
        "INSERT INTO open311_keys (id, name, key_hash, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?)",
        (str(ULID()), name, digest(raw), now, created_by),
    )
    return raw


async def client_of(db: aiosqlite.Connection, raw: str) -> str | None:
    """The client name of an active key, None for an unknown or revoked one."""
    if not raw or len(raw) > 200:
        return None
    async with db.execute(
        "SELECT name FROM open311_keys WHERE key_hash = ? AND active = 1", (digest(raw),)
    ) as cursor:
        row = await cursor.fetchone()
    return str(row["name"]) if row else None
