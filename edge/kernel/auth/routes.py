"""/login and /logout, shared by edge and central (the node says where roles land, and how a
login attempt is recorded)."""

from __future__ import annotations

from datetime import datetime

import aiosqlite
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.kernel import csrf, transport
from edge.kernel.auth import lockout, sessions, throttle
from edge.kernel.auth.account import by_phone
from edge.kernel.auth.forms import parse_login, safe_next
from edge.kernel.auth.passwords import verify_password
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.node import Node, NodeSettings, node_of
from edge.kernel.templating import render
from edge.kernel.urls import SITE_ROOT, home_path


def _form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return render(
        request, "edge/auth/login.html", {"values": values, "errors": errors}, status_code=status
    )


async def login_page(request: Request) -> Response:
    """The sign-in form."""
    values = {"phone": "", "next": safe_next(request.query_params.get("next"))}
    return _form(request, values, {}, 200)


async def _refused(
    request: Request, node: Node[NodeSettings], values: dict[str, str], until: datetime | None
) -> Response:
    """No check for this attempt: the phone, device or address must wait (429) or N checks are
    running (503); either way the answer says when to try again."""
    now = node.clock()
    async with node.db.write() as db:
        await _record_login(node, db, None, "locked" if until else "busy", stamp(now))
    status, message = throttle.refusal(until, now)
    return throttle.refused(_form(request, values, {"form": message}, status), until, now)


@csrf.protected
async def login(request: Request) -> Response:
    """Check the phone and password within the attempt limits; rotate the session. The owner's
    usual device is limited on its own, so others' failures never lock it out."""
    node = node_of(request)
    values, errors = parse_login(await request.form())
    if errors:
        return _form(request, values, errors, 400)
    web = node.settings.web
    attempt = await throttle.attempt(node, request, values["phone"], per_source_key=False)
    turn = await throttle.wait_turn(node, attempt)
    if turn.check is None:
        return await _refused(request, node, values, turn.locked_until)
    async with node.db.read() as db:
        row = await by_phone(db, values["phone"])
    ok = await run_in_threadpool(
        verify_password, row["password_hash"] if row else None, values["password"]
    )
    now = node.clock()
    if not ok or row is None or not row["active"]:
        async with node.db.write() as db:
            until = await throttle.failed(node, db, turn.check, attempt, now)
            await _record_login(node, db, row, "locked" if until else "failed", stamp(now))
        if until:
            locked = _form(request, values, {"form": lockout.wait_message(until, now)}, 429)
            return throttle.refused(locked, until, now)
        return _form(request, values, {"form": _("手机号码或密码不正确。")}, 401)
    old_token = request.cookies.get(sessions.SESSION_COOKIE)
    async with node.db.write() as db:
        if old_token:
            await sessions.end(db, old_token)
        await throttle.succeeded(db, turn.check, attempt, now)
        token = await sessions.start(db, row["id"], stamp(now), web.session_hours)
        await _record_login(node, db, row, "ok", stamp(now))
    home = home_path(request, node.homes, row["role"])
    response = RedirectResponse(values["next"] or home, status_code=303)
    secure = transport.secure(request.scope)
    sessions.set_session_cookie(response, token, secure=secure, hours=web.session_hours)
    return throttle.keep_device(response, attempt, secure=secure)


async def _record_login(
    node: Node[NodeSettings],
    db: aiosqlite.Connection,
    row: aiosqlite.Row | None,
    result: str,
    at: str,
) -> None:
    """Every login attempt is recorded where the node keeps a record (edge: its audit log)."""
    if node.record_login is not None:
        await node.record_login(db, row, result, at)


# What signing out clears in the browser: its HTTP cache of the account's pages. Never
# "storage": that would also delete the agent's outbox (IndexedDB) of unsent applications; the
# service worker forgets the pages it kept for the account itself (static/sw.js).
CLEAR_ON_LOGOUT = '"cache"'


@csrf.protected
async def logout(request: Request) -> Response:
    """End the session on the server, drop the cookie and the browser's cached pages."""
    node = node_of(request)
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token:
        async with node.db.write() as db:
            await sessions.end(db, token)
    response = RedirectResponse(SITE_ROOT, status_code=303)  # either node's own front page
    response.headers["Clear-Site-Data"] = CLEAR_ON_LOGOUT
    sessions.clear_session_cookie(response, secure=transport.secure(request.scope))
    return response


routes = [
    Route("/login", login_page, methods=["GET"], name="auth:login"),
    Route("/login", login, methods=["POST"], name="auth:sign_in"),
    Route("/logout", logout, methods=["POST"], name="auth:logout"),
]
