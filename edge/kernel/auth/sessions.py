"""Server-side sessions: a random token in a Secure HttpOnly cookie, its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

import aiosqlite
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.node import Node, NodeSettings

SESSION_COOKIE = "cb_session"
CSRF_COOKIE = "cb_csrf"


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
    db: aiosqlite.Connection, token: str, now_stamp: str
) -> tuple[Account, str] | None:
    """The live session's account and CSRF token, or None."""
    async with db.execute(
        """
        SELECT a.*, s.csrf_token FROM sessions s JOIN accounts a ON a.id = s.account_id
        WHERE s.token_hash = ? AND s.expires_at > ? AND a.active = 1
        """,
        (_hash(token), now_stamp),
    ) as cursor:
        row = await cursor.fetchone()
    return (Account.from_row(row), row["csrf_token"]) if row else None


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
    """Puts `account` and `csrf_token` in the scope; gives anonymous visitors a CSRF cookie."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = cookies_of(scope)
        scope["account"] = None
        token = cookies.get(SESSION_COOKIE)
        if token:
            node: Node[NodeSettings] = scope["app"].state.node
            async with node.db.read() as db:
                found = await lookup(db, token, stamp(node.clock()))
            if found:
                scope["account"], scope["csrf_token"] = found
        new_anonymous = None
        if scope["account"] is None:
            new_anonymous = None if cookies.get(CSRF_COOKIE) else secrets.token_urlsafe(32)
            scope["csrf_token"] = cookies.get(CSRF_COOKIE) or new_anonymous
        if new_anonymous is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                secure = "; Secure" if self.secure else ""
                headers.append(
                    "Set-Cookie",
                    f"{CSRF_COOKIE}={new_anonymous}; Path=/; HttpOnly; SameSite=Lax{secure}",
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


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
