"""How much of a request a node reads: the body up to its route's declared limit (64 KB unless
the route allows more), the head up to MAX_HEAD_BYTES; 413 and 431 past them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel.header_limit import MAX_HEAD_BYTES
from edge.kernel.i18n import gettext as _

DEFAULT_MAX_BODY = 64 * 1024  # a form or a JSON object; photo routes declare their own
E = TypeVar("E", bound=Callable[..., Any])
_DECLARED: dict[object, int] = {}


def allow_body(max_bytes: int) -> Callable[[E], E]:
    """Declare that a route's handler may receive a body of up to `max_bytes`."""

    def declare(endpoint: E) -> E:
        _DECLARED[endpoint] = max_bytes
        return endpoint

    return declare


def body_limit(endpoint: object) -> int:
    """The body limit of a route's endpoint, through its wrappers (`__wrapped__`)."""
    while endpoint is not None:
        if endpoint in _DECLARED:
            return _DECLARED[endpoint]
        endpoint = getattr(endpoint, "__wrapped__", None)
    return DEFAULT_MAX_BODY


def _too_large() -> HTTPException:
    return HTTPException(status_code=413, detail=_("提交的内容太大。"))


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def head_bytes(scope: Scope) -> int:
    """The bytes of the request line and headers, as the server read them."""
    return (
        len(scope.get("raw_path") or b"")
        + len(scope.get("query_string", b""))
        + sum(len(name) + len(value) + 4 for name, value in scope["headers"])
    )


def bounded(scope: Scope, receive: Receive) -> Receive:
    """`receive` that raises 413 (before reading) when the declared length passes the route's
    limit, and as soon as the bytes received pass it; the route is known once routed."""
    received = 0

    async def receive_bounded() -> Message:
        nonlocal received
        limit = body_limit(scope.get("endpoint"))
        if received == 0 and _declared_length(scope) > limit:
            raise _too_large()
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _too_large()
        return message

    return receive_bounded


class RequestLimitsMiddleware:
    """431 for a head past MAX_HEAD_BYTES (whatever server runs the app); bodies bounded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if head_bytes(scope) > MAX_HEAD_BYTES:
            refusal = PlainTextResponse(_("请求头太大。"), status_code=431)
            await refusal(scope, receive, send)
            return
        await self.app(scope, bounded(scope, receive), send)
