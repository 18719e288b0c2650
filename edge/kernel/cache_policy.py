"""Shared devices: a response made for a signed-in staff member, officer or admin is never
stored, by the browser or the agent app's worker (`Cache-Control: no-store`); only the roles
whose pages the agent app keeps offline keep the ETag middleware's `private, no-cache`."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STORABLE_ROLES = frozenset({"agent"})  # the agent app's start pages and forms work offline
NO_STORE = "no-store"


def must_not_store(scope: Scope) -> bool:
    """Whether the response to this request is made for an account whose pages no device
    may keep."""
    account = scope.get("account")
    return account is not None and account.role not in STORABLE_ROLES


class CachePolicyMiddleware:
    """Marks every response for such an account `no-store`, over what the route said."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and must_not_store(scope):
                MutableHeaders(scope=message)["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_marked)
