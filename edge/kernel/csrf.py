"""CSRF: every state-changing request carries the token of its session (form field or header)."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from edge.kernel.i18n import gettext as _

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"

Endpoint = Callable[[Request], Awaitable[Response]]


async def check(request: Request) -> None:
    """Raise 403 unless the request carries the token bound to this visitor's session."""
    expected = request.scope.get("csrf_token") or ""
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            status_code=403, detail=_("页面已过期或来源不明，请刷新页面后重新提交。")
        )


def protected(endpoint: Endpoint) -> Endpoint:
    """Wrap a handler so unsafe methods are checked before it runs; close its form after."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        try:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                await check(request)
            return await endpoint(request)
        finally:
            await request.close()  # closes uploaded files the form parser spooled

    return wrapper
