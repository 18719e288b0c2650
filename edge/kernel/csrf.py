"""CSRF: every state-changing request comes from this site's pages (Sec-Fetch-Site / Origin /
Referer) and carries the token of its session (form field or header); signed out, the browser's
own word decides, and a browser that says nothing needs the node's SameSite cookie (one value
for all visitors: anonymous pages carry no token and no per-visitor state; docs/architecture.md
"CSRF")."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from edge.kernel.i18n import gettext as _
from edge.kernel.request_origin import from_this_site, states_origin

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"

Endpoint = Callable[[Request], Awaitable[Response]]


def _refused() -> HTTPException:
    return HTTPException(status_code=403, detail=_("页面已过期或来源不明，请刷新页面后重新提交。"))


def same_token(sent: str, expected: str) -> bool:
    """Constant-time comparison of any two texts (a non-ASCII token is just a wrong one)."""
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8"))


async def check(request: Request, *, preference: bool = False) -> None:
    """Raise 403 unless the request comes from this site and carries the session's token
    (signed in); signed out, unless the browser names this site, or names nothing and sends
    the node-signed visitor cookie (not needed for a `preference` form)."""
    if not from_this_site(request.headers):
        raise _refused()
    if request.scope.get("account") is None:
        if not (
            preference or states_origin(request.headers) or request.scope.get("visitor_signed")
        ):
            raise _refused()
        return
    expected = request.scope.get("csrf_token") or ""
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not same_token(sent, expected):
        raise _refused()


def protected(endpoint: Endpoint, *, preference: bool = False) -> Endpoint:
    """Wrap a handler so unsafe methods are checked before it runs; close its form after."""

    @functools.wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        try:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                await check(request, preference=preference)
            return await endpoint(request)
        finally:
            await request.close()  # closes uploaded files the form parser spooled

    return wrapper


def preference(endpoint: Endpoint) -> Endpoint:
    """`protected`, for a form on a kept public page that only stores the visitor's own choice
    in their browser (no account, no row): signed out, refused only when the browser names
    another site, since such a page sets no cookie (docs/architecture.md "CSRF")."""
    return protected(endpoint, preference=True)
