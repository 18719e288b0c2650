"""How a request really reached us: behind a trusted proxy (CUNBAN_TRUSTED_PROXIES) its scheme
and client address come from X-Forwarded-Proto / X-Forwarded-For (uvicorn's
ProxyHeadersMiddleware), from any other peer those headers are ignored; and so whether the
cookies set in answer are Secure and the response carries HSTS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from edge.kernel.trusted_proxies import proxies

SECURE = "cunban.secure"  # scope keys this module sets
VIA_PROXY = "cunban.via_proxy"


class TransportMiddleware:
    """Takes the scheme and client address from a trusted proxy's headers (the library's
    ProxyHeadersMiddleware), then marks the request secure when its scheme is https or
    `force_secure` (CUNBAN_COOKIE_SECURE) says every request is."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: str, force_secure: bool) -> None:
        self.app = app
        self.force_secure = force_secure
        self.forwarded = ProxyHeadersMiddleware(
            self._mark,  # type: ignore[arg-type]  # uvicorn types its scopes more narrowly
            trusted_hosts=proxies(trusted_proxies),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client") or (None, 0)
        scope[VIA_PROXY] = peer[0] in self.forwarded.trusted_hosts
        await self.forwarded(scope, receive, send)  # type: ignore[arg-type]

    async def _mark(self, scope: Any, receive: Receive, send: Send) -> None:
        scope[SECURE] = self.force_secure or scope.get("scheme") in ("https", "wss")
        await self.app(scope, receive, send)


def secure(scope: Mapping[str, Any]) -> bool:
    """Whether the request (its scope) came over HTTPS as far as we can trust, or
    CUNBAN_COOKIE_SECURE forces it: then its cookies are Secure and it carries HSTS."""
    return bool(scope.get(SECURE, False))


def via_proxy(scope: Mapping[str, Any]) -> bool:
    """Whether the request's peer is a trusted proxy (whose headers may name the client)."""
    return bool(scope.get(VIA_PROXY, False))
