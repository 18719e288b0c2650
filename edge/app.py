"""create_app(settings): the edge node's Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from brotli_asgi import BrotliMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from edge import errors
from edge.accounts import routes as accounts_routes
from edge.accounts.roles import HOME
from edge.auth import routes as auth_routes
from edge.auth.sessions import SessionMiddleware
from edge.blobs.store import BlobStore
from edge.catalog import routes as catalog_routes
from edge.clock import Clock, system_clock
from edge.db import Database
from edge.etag import ETagMiddleware
from edge.health import routes as health_routes
from edge.home import routes as home_routes
from edge.intake import routes as intake_routes
from edge.locale_middleware import LocaleMiddleware
from edge.outbox import routes as outbox_routes
from edge.push import routes as push_routes
from edge.pwa import routes as pwa_routes
from edge.reference import prepare_database
from edge.review import routes as review_routes
from edge.seals import routes as seal_routes
from edge.security_headers import SecurityHeadersMiddleware
from edge.settings import Settings
from edge.sms import routes as sms_routes
from edge.static_assets import StaticAssets
from edge.templating import build_environment
from edge.tracking import routes as tracking_routes

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def node_middleware(*inner: Middleware) -> list[Middleware]:
    """The middleware every node (edge or central) runs, outermost first, then `inner`."""
    return [
        Middleware(BrotliMiddleware, gzip_fallback=True, minimum_size=256),
        Middleware(ETagMiddleware),  # inside compression: tags the plain bytes
        Middleware(SecurityHeadersMiddleware),
        Middleware(LocaleMiddleware),
        *inner,
    ]


def static_route(static: StaticAssets) -> Route:
    """The route serving hashed static files."""
    return Route("/static/{path:path}", static.endpoint, methods=["GET", "HEAD"])


def create_app(settings: Settings, clock: Clock = system_clock) -> Starlette:
    """Build the edge app; the database is migrated and reference data loaded at start-up."""
    db = Database(settings.database_path)
    static = StaticAssets(STATIC_DIR)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            await prepare_database(db)
            yield
        finally:
            await db.close()

    routes: list[BaseRoute] = [
        *home_routes.routes,
        *catalog_routes.routes,
        *auth_routes.routes,
        *intake_routes.routes,
        *outbox_routes.routes,
        *review_routes.routes,
        *tracking_routes.routes,
        *seal_routes.routes,
        *accounts_routes.routes,
        *sms_routes.routes,
        *health_routes.routes,
        *pwa_routes.routes,
        *push_routes.routes,
        static_route(static),
    ]
    app = Starlette(
        routes=routes,
        middleware=node_middleware(Middleware(SessionMiddleware, secure=settings.cookie_secure)),
        exception_handlers=errors.handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.db = db
    app.state.blobs = BlobStore(settings.blobs_dir)
    app.state.homes = HOME
    app.state.audit_logins = True
    app.state.templates = build_environment(static)
    return app
