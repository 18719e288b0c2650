"""The middleware stack every node (edge or central) runs, outermost first."""

from __future__ import annotations

from pathlib import Path

from brotli_asgi import BrotliMiddleware
from starlette.middleware import Middleware

from edge.kernel.auth.sessions import SessionMiddleware
from edge.kernel.cache_policy import CachePolicyMiddleware
from edge.kernel.etag import EncodingTags, ETagMiddleware
from edge.kernel.locale import LocaleMiddleware
from edge.kernel.metrics import MetricsMiddleware, RequestMetrics
from edge.kernel.page_cache import PublicPageCache
from edge.kernel.request_limits import RequestLimitsMiddleware
from edge.kernel.security_headers import SecurityHeadersMiddleware
from edge.kernel.transport import TransportMiddleware
from edge.kernel.trusted_proxies import LOOPBACK


def node_middleware(
    *,
    cookie_secure: bool,
    keys_dir: Path,
    metrics: RequestMetrics,
    public_paths: tuple[str, ...] = (),
    trusted_proxies: str = LOOPBACK,
    public_exact: tuple[str, ...] = (),
    public_forms: tuple[str, ...] = (),
) -> list[Middleware]:
    """The scheme and client address a trusted proxy names (outermost, so everything inside
    sees the real ones; `cookie_secure` forces Secure cookies and HSTS over plain HTTP too),
    request metrics (the whole time, every answer, kept pages too), the public page cache (a
    kept page skips everything else but the header limit), a tag per encoding, compression,
    ETags, security headers, request limits (before anything that could read the body), the
    cache policy of staff pages (inside ETags, so a no-store page is never tagged), locale,
    then sessions (innermost; `keys_dir` holds the node's visitor-token secret)."""
    return [
        Middleware(
            TransportMiddleware, trusted_proxies=trusted_proxies, force_secure=cookie_secure
        ),
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(PublicPageCache, paths=public_paths, exact=public_exact, forms=public_forms),
        Middleware(EncodingTags),  # a tag per encoding: outside the compression
        Middleware(BrotliMiddleware, gzip_fallback=True, minimum_size=256),
        Middleware(ETagMiddleware),  # inside compression: tags the plain bytes
        Middleware(SecurityHeadersMiddleware),
        Middleware(RequestLimitsMiddleware),  # before anything that could read the body
        Middleware(CachePolicyMiddleware),
        Middleware(LocaleMiddleware),
        Middleware(SessionMiddleware, keys_dir=keys_dir),
    ]
