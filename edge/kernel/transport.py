"""How a request really reached us: behind a trusted proxy (CUNBAN_TRUSTED_PROXIES) its scheme
and client address come from X-Forwarded-Proto / X-Forwarded-For (uvicorn's
ProxyHeadersMiddleware), from any other peer those headers are ignored; and so whether the
cookies set in answer are Secure and the response carries HSTS."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

LOOPBACK = "127.0.0.1,::1"  # the default: a proxy on the same machine (deploy/install's Caddy)
SECURE = "cunban.secure"  # scope keys this module sets
VIA_PROXY = "cunban.via_proxy"


def proxies(raw: str) -> list[str]:
    """The addresses and networks of a comma-separated CUNBAN_TRUSTED_PROXIES value."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def proxies_problem(raw: str, name: str) -> str | None:
    """Why `raw` cannot name the trusted proxies (`name` is its variable), or None."""
    for part in proxies(raw):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            return f"{name} must list IP addresses or networks (10.0.0.0/8), not {part!r}"
    return None


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
