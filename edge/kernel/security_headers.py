"""Headers every response carries: no sniffing, no framing, scripts only from this origin (and
the inline script loader, by its hash); and, where the request came over HTTPS
(edge.kernel.transport.secure), HSTS."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel.static_assets import csp_hash, inline_css, inline_script
from edge.kernel.transport import secure

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
    """Adds HEADERS (and HSTS over HTTPS) to every HTTP response that does not set them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        wanted = HEADERS | HSTS if secure(scope) else HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
