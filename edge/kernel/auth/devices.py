"""The owner's usual device: a long-lived random cookie, remembered (as its sha256) for each
account or tracking code it got into, so others' failures there never stop it."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

import aiosqlite
from starlette.requests import HTTPConnection
from starlette.responses import Response

from edge.kernel.clock import stamp

COOKIE = "cb_device"
MAX_AGE = 400 * 86400  # the longest a browser keeps a cookie
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def digest(token: str) -> str:
    """What the node keeps of a device token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_of(connection: HTTPConnection) -> str | None:
    """The browser's device token, if it sent a well-formed one."""
    token = connection.cookies.get(COOKIE, "")
    return token if TOKEN.fullmatch(token) else None


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def known(db: aiosqlite.Connection, token: str, key: str) -> bool:
    """Has this device got into `key` (an account's phone, a tracking code) before?"""
    async with db.execute(
        "SELECT 1 FROM known_devices WHERE token_hash = ? AND key = ?", (digest(token), key)
    ) as cursor:
        return await cursor.fetchone() is not None


async def remember(db: aiosqlite.Connection, token: str, key: str, now: datetime) -> None:
    """This device got into `key` just now."""
    await db.execute(
        "INSERT INTO known_devices (token_hash, key, seen_at) VALUES (?, ?, ?) "
        "ON CONFLICT (token_hash, key) DO UPDATE SET seen_at = excluded.seen_at",
        (digest(token), key, stamp(now)),
    )


def set_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE, path="/", secure=secure, httponly=True, samesite="lax"
    )
