"""One-time sign-in codes by SMS: six digits, kept only as a hash, valid 10 minutes, five tries,
one new code a minute per phone; a new code replaces the old one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import aiosqlite

from edge.kernel.clock import stamp

VALID = timedelta(minutes=10)
RESEND_AFTER = timedelta(minutes=1)
MAX_TRIES = 5


def _hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


async def issue(db: aiosqlite.Connection, phone: str, now: datetime) -> str | None:
    """A new code for `phone` (stored hashed), or None when one was sent less than a minute
    ago (the resident waits for that SMS)."""
    async with db.execute("SELECT sent_at FROM resident_codes WHERE phone = ?", (phone,)) as c:
        row = await c.fetchone()
    if row is not None and datetime.fromisoformat(row[0]) > now - RESEND_AFTER:
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    await db.execute(
        "INSERT INTO resident_codes (phone, code_hash, sent_at, expires_at, attempts) "
        "VALUES (?, ?, ?, ?, 0) ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash,"
        " sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0",
        (phone, _hash(phone, code), stamp(now), stamp(now + VALID)),
    )
    return code


async def redeem(db: aiosqlite.Connection, phone: str, code: str, now: datetime) -> bool:
    """Whether `code` is the phone's current code, unexpired and within its tries; a right
    code is used up, a wrong one counted."""
    async with db.execute(
        "SELECT code_hash, expires_at, attempts FROM resident_codes WHERE phone = ?", (phone,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None or datetime.fromisoformat(row[1]) < now or row[2] >= MAX_TRIES:
        return False
    if hmac.compare_digest(row[0], _hash(phone, code)):
        await db.execute("DELETE FROM resident_codes WHERE phone = ?", (phone,))
        return True
    await db.execute("UPDATE resident_codes SET attempts = attempts + 1 WHERE phone = ?", (phone,))
    return False
