"""/login and /logout, shared by edge and central (app.state says where roles land, and
whether logins are audited)."""

from __future__ import annotations

import math

import aiosqlite
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge import csrf
from edge.accounts import queries as accounts
from edge.audit.log import append as audit
from edge.auth import lockout, sessions
from edge.auth.forms import parse_login, safe_next
from edge.auth.passwords import verify_password
from edge.clock import stamp
from edge.i18n import gettext as _
from edge.templating import render


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


@csrf.protected
async def login(request: Request) -> Response:
    """Check the phone and password; rotate the session; count and lock failures."""
    state = request.app.state
    values, errors = parse_login(await request.form())
    if errors:
        return _form(request, values, errors, 400)
    now = state.clock()
    settings = state.settings
    async with state.db.write() as db:
        until = await lockout.begin_attempt(
            db, values["phone"], now, settings.login_max_failures, settings.login_lock_minutes
        )
        if until:
            await _audit_login(state, db, None, "locked", stamp(now))
    if until:
        minutes = math.ceil((until - now).total_seconds() / 60)
        message = _("登录失败次数过多，请在 %(minutes)s 分钟后再试。") % {"minutes": minutes}
        return _form(request, values, {"form": message}, 429)
    async with state.db.read() as db:
        row = await accounts.by_phone(db, values["phone"])
    ok = await run_in_threadpool(
        verify_password, row["password_hash"] if row else None, values["password"]
    )
    if not ok or row is None or not row["active"]:
        async with state.db.write() as db:
            locked = await lockout.is_locked(db, values["phone"], now)
            await _audit_login(state, db, row, "locked" if locked else "failed", stamp(now))
        message = (
            _("登录失败次数过多，请在 %(minutes)s 分钟后再试。")
            % {"minutes": settings.login_lock_minutes}
            if locked
            else _("手机号码或密码不正确。")
        )
        return _form(request, values, {"form": message}, 429 if locked else 401)
    old_token = request.cookies.get(sessions.SESSION_COOKIE)
    async with state.db.write() as db:
        if old_token:
            await sessions.end(db, old_token)
        await lockout.clear(db, values["phone"])
        token = await sessions.start(db, row["id"], stamp(now), state.settings.session_hours)
        await _audit_login(state, db, row, "ok", stamp(now))
    home = state.homes.get(row["role"], "/")
    response = RedirectResponse(values["next"] or home, status_code=303)
    sessions.set_session_cookie(
        response, token, secure=state.settings.cookie_secure, hours=state.settings.session_hours
    )
    return response


async def _audit_login(
    state: State, db: aiosqlite.Connection, row: aiosqlite.Row | None, result: str, at: str
) -> None:
    """Every login attempt is audited (where the node keeps an audit log); an unknown phone is
    recorded without the number."""
    if not state.audit_logins:
        return
    await audit(
        db,
        actor_id=row["id"] if row else None,
        role=row["role"] if row else "unknown",
        jurisdiction_code=row["jurisdiction_code"] if row else "",
        action="login",
        object_type="account",
        object_id=row["id"] if row else "",
        result=result,
        at=at,
    )


@csrf.protected
async def logout(request: Request) -> Response:
    """End the session on the server and drop the cookie."""
    state = request.app.state
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if token:
        async with state.db.write() as db:
            await sessions.end(db, token)
    response = RedirectResponse("/", status_code=303)
    sessions.clear_session_cookie(response, secure=state.settings.cookie_secure)
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
