"""Headers every response carries: no sniffing, no framing, scripts only from this origin (and
the inline script loader, by its hash); and, where the node is served over HTTPS, HSTS."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel.static_assets import csp_hash, inline_css, inline_script

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' "
        + csp_hash(inline_css())
        + "; "
        "script-src 'self' "
        + csp_hash(inline_script())
        + "; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}
HSTS = {"Strict-Transport-Security": "max-age=31536000"}  # a year; subdomains are not ours


class SecurityHeadersMiddleware:
    """Adds HEADERS (and HSTS when `https`) to every HTTP response that does not set them."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = HEADERS | HSTS if https else HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
