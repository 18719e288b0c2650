"""The middleware stack every node (edge or central) runs, outermost first."""

from __future__ import annotations

from brotli_asgi import BrotliMiddleware
from starlette.middleware import Middleware

from edge.kernel.auth.sessions import SessionMiddleware
from edge.kernel.etag import ETagMiddleware
from edge.kernel.locale import LocaleMiddleware
from edge.kernel.request_limits import RequestLimitsMiddleware
from edge.kernel.security_headers import SecurityHeadersMiddleware


def node_middleware(*, cookie_secure: bool) -> list[Middleware]:
    """Compression, ETags, security headers, request limits, locale, then sessions (innermost)."""
    return [
        Middleware(BrotliMiddleware, gzip_fallback=True, minimum_size=256),
        Middleware(ETagMiddleware),  # inside compression: tags the plain bytes
        Middleware(SecurityHeadersMiddleware),
        Middleware(RequestLimitsMiddleware),  # before anything that could read the body
        Middleware(LocaleMiddleware),
        Middleware(SessionMiddleware, secure=cookie_secure),
    ]
