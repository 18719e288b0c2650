"""The Starlette application both nodes run: a failure is answered and logged by the error
handlers (type and path only, `edge.kernel.errors`), never handed on to the server, which would
log its whole traceback (and whatever personal data its frames show)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send


class NodeApplication(Starlette):
    """Starlette whose unhandled HTTP failures stop at its own error handler."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            return
