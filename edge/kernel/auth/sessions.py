"""Server-side sessions: a random token in a Secure HttpOnly cookie, its hash in the database;
a session ends after `session_hours`, or sooner when unused for `session_idle_minutes`."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import aiosqlite
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel import transport, visitor_token
from edge.kernel.auth.account import Account
from edge.kernel.auth.session_cache import SessionCache
from edge.kernel.clock import stamp
from edge.kernel.db import Database
from edge.kernel.node import Node, NodeSettings

SESSION_COOKIE = "cb_session"
CSRF_COOKIE = "cb_csrf"
VISITOR_AGE = 365 * 24 * 3600  # seconds: the visitor cookie is the same for all, keep it
TOUCH_EVERY = timedelta(minutes=1)  # how stale seen_at may get before a request renews it


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(db: aiosqlite.Connection, account_id: str, now_stamp: str, hours: int) -> str:
    """Create a session for `account_id`; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    expires = stamp(datetime.fromisoformat(now_stamp) + timedelta(hours=hours))
    await db.execute(
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (_hash(token), account_id, secrets.token_urlsafe(32), now_stamp, expires),
    )
    return token


async def end(db: aiosqlite.Connection, token: str) -> None:
    """Delete a session, so its cookie is worthless even if kept."""
    await db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))


async def end_all(db: aiosqlite.Connection, account_id: str) -> None:
    """Delete every session of an account (deactivated, password reset)."""
    await db.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))


async def lookup(
    db: aiosqlite.Connection,
    token: str,
    now: datetime,
    idle: timedelta,
    kept: tuple[SessionCache, Database] | None = None,
) -> tuple[Account, str, datetime] | None:
    """The live session's account, CSRF token and when it was last used, or None (expired,
    or unused for longer than `idle`); with `kept` (the cache and the database), the
    answer kept since the database's last commit, if any."""
    key = _hash(token)
    version = kept[0].version(kept[1]) if kept else 0  # before the query: a commit meanwhile
    hit = kept[0].get(key, version, now, idle) if kept else None  # makes the next one ask
    if hit is not None:
        return hit
    async with db.execute(
        """
        SELECT a.*, s.csrf_token, coalesce(s.seen_at, s.created_at) AS seen, s.expires_at
        FROM sessions s JOIN accounts a ON a.id = s.account_id
        WHERE s.token_hash = ? AND s.expires_at > ? AND coalesce(s.seen_at, s.created_at) > ?
          AND a.active = 1
        """,
        (key, stamp(now), stamp(now - idle)),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    found = Account.from_row(row), row["csrf_token"], datetime.fromisoformat(row["seen"])
    if kept:
        kept[0].keep(key, version, found, datetime.fromisoformat(row["expires_at"]))
    return found


async def touch(db: aiosqlite.Connection, token: str, now_stamp: str) -> None:
    """Record that the session was used now (it stays alive for another idle period)."""
    await db.execute(
        "UPDATE sessions SET seen_at = ? WHERE token_hash = ?", (now_stamp, _hash(token))
    )


def set_session_cookie(response: Response, token: str, *, secure: bool, hours: int) -> None:
    """Attach the session cookie to a response."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=hours * 3600,
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    """Tell the browser to drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure, samesite="lax")


class SessionMiddleware:
    """Puts `account` and `csrf_token` in the scope (renewing a session in use); a signed-out
    visitor gets the node-signed CSRF cookie (the same for every visitor) with a page (GET) that
    is not a kept public page, and `visitor_signed` says whether a valid one came back."""

    def __init__(self, app: ASGIApp, *, keys_dir: Path) -> None:
        self.app = app
        self.keys_dir = keys_dir
        self._secret: bytes | None = None
        self.kept = SessionCache()

    def secret(self) -> bytes:
        """The node's visitor-token secret, read (or made) on first use."""
        if self._secret is None:
            self._secret = visitor_token.load_secret(self.keys_dir)
        return self._secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = cookies_of(scope)
        scope["account"], scope["csrf_token"], scope["visitor_signed"] = None, "", False
        token = cookies.get(SESSION_COOKIE)
        if token:
            await _resume(scope, token, self.kept)
        if scope["account"] is not None:
            await self.app(scope, receive, send)
            return
        sent = cookies.get(CSRF_COOKIE, "")
        scope["visitor_signed"] = bool(sent) and visitor_token.is_valid(self.secret(), sent)
        if (
            scope["visitor_signed"]
            or scope["method"] not in ("GET", "HEAD")
            or scope.get("public_page")  # kept for everyone: no Set-Cookie (page_cache)
        ):
            await self.app(scope, receive, send)  # the cookie comes with a page, not a refusal
            return
        cookie = (
            f"{CSRF_COOKIE}={visitor_token.issue(self.secret())}; Path=/; Max-Age={VISITOR_AGE}; "
            "HttpOnly; SameSite=Strict"
        )
        cookie += "; Secure" if transport.secure(scope) else ""

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _resume(scope: Scope, token: str, kept: SessionCache) -> None:
    """Put the live session's account and token in the scope; renew its idle deadline when it
    was last renewed over TOUCH_EVERY ago (best effort: skipped, never failed, while the writer
    is busy or the disk is full; reads still work then)."""
    node: Node[NodeSettings] = scope["app"].state.node
    now = node.clock()
    idle = timedelta(minutes=node.settings.web.session_idle_minutes)
    async with node.db.read() as db:
        found = await lookup(db, token, now, idle, (kept, node.db))
    if found is None:
        return
    scope["account"], scope["csrf_token"], seen = found
    if now - seen >= TOUCH_EVERY:
        try:
            async with node.db.write() as db:
                await touch(db, token, stamp(now))
        except sqlite3.OperationalError:  # DatabaseBusy, SQLITE_FULL
            pass  # renewed by a later request; this one goes on as it is


def cookies_of(scope: Scope) -> dict[str, str]:
    """The request's cookies, read straight from the ASGI scope."""
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}
