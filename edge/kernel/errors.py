"""Error pages in the user's language; details never echo personal data back."""

from __future__ import annotations

import errno
import logging
import sqlite3
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from edge.kernel.auth.access import LoginRequired
from edge.kernel.db import BUSY_TIMEOUT_MS, is_busy
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render

log = logging.getLogger("cunban.errors")

BUSY_RETRY_S = BUSY_TIMEOUT_MS // 1000  # the writer is held longer than a request may wait
FULL_RETRY_S = 60  # someone must free space first
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def _default_message(status: int) -> str:
    messages = {
        400: _("提交的内容有误，请检查后重试。"),
        403: _("您没有权限进行此操作。"),
        404: _("您要找的页面不存在。"),
        405: _("不支持这种访问方式。"),
        429: _("操作太频繁，请稍后再试。"),
    }
    return messages.get(status, _("服务器暂时出了点问题，请稍后再试。"))


def wants_json(request: Request) -> bool:
    """Whether the caller is a script (the agent app's outbox) rather than a browser page."""
    return "application/json" in request.headers.get("accept", "")


async def http_error(request: Request, exc: Exception) -> Response:
    """Render an HTTPException as a page (or a redirect for LoginRequired); JSON for scripts."""
    assert isinstance(exc, HTTPException)
    if isinstance(exc, LoginRequired):
        if wants_json(request):  # a script cannot follow a login page: tell it where to go
            login = {"error": _("登录已过期，请重新登录。"), "login": exc.location}
            return JSONResponse(login, status_code=401, headers={"Cache-Control": "no-store"})
        return RedirectResponse(exc.location, status_code=303)
    # Starlette fills detail with the English reason phrase when none was given.
    detail = exc.detail if exc.detail and exc.detail != _reason(exc.status_code) else None
    message = detail or _default_message(exc.status_code)
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=exc.status_code)
    return render(
        request,
        "edge/errors/error.html",
        {"status": exc.status_code, "message": message},
        status_code=exc.status_code,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """Log the failure by type and path only; show a plain apology (a lock or a full disk met
    outside a route, e.g. in the session middleware, answers as `storage_error` does)."""
    if _storage_answer(exc) is not None:
        return await storage_error(request, exc)
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    if wants_json(request):
        return JSONResponse({"error": _default_message(500)}, status_code=500)
    return render(
        request,
        "edge/errors/error.html",
        {"status": 500, "message": _default_message(500)},
        status_code=500,
    )


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase


def _storage_answer(exc: BaseException) -> tuple[int, int, str] | None:
    """(status, Retry-After seconds, message) for a lock not had in time or a full disk;
    None for any other failure (a 500)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF if isinstance(exc, sqlite3.Error) else 0
    if isinstance(exc, sqlite3.Error) and is_busy(exc):  # DatabaseBusy too
        return 503, BUSY_RETRY_S, _("系统正忙，这次没有保存，请稍后再试。")
    if code == sqlite3.SQLITE_FULL or (isinstance(exc, OSError) and exc.errno in FULL_ERRNOS):
        message = _("服务器的存储空间已满，这次没有保存。请稍后再试，并告知管理员清理磁盘。")
        return 507, FULL_RETRY_S, message
    return None


async def storage_error(request: Request, exc: Exception) -> Response:
    """503 with Retry-After when the writer was not had in time, 507 on a full disk (nothing
    was saved: the caller retries later); any other failure goes on to `server_error`."""
    answer = _storage_answer(exc)
    if answer is None:
        raise exc
    status, retry_after, message = answer
    log.warning(
        "%s on %s %s: answered %d", type(exc).__name__, request.method, request.url.path, status
    )
    headers = {"Retry-After": str(retry_after), "Cache-Control": "no-store"}
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    context = {"status": status, "message": message}
    page = render(request, "edge/errors/error.html", context, status_code=status)
    page.headers.update(headers)
    return page


handlers = {
    HTTPException: http_error,
    sqlite3.Error: storage_error,
    OSError: storage_error,
    Exception: server_error,
}
