"""create_app(settings): the edge node's Starlette application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from edge.accounts import routes as accounts_routes
from edge.accounts.roles import HOME
from edge.affairs import routes as affairs_routes
from edge.agent_outbox import routes as agent_outbox_routes
from edge.audit.log import login_recorder
from edge.catalog import routes as catalog_routes
from edge.disclosure import routes as disclosure_routes
from edge.elections import routes as elections_routes
from edge.feedback import agent as feedback_agent
from edge.feedback import routes as feedback_routes
from edge.health import routes as health_routes
from edge.home import routes as home_routes
from edge.intake import routes as intake_routes
from edge.kernel import errors
from edge.kernel.application import NodeApplication
from edge.kernel.auth import routes as auth_routes
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import Clock, system_clock
from edge.kernel.db import Database
from edge.kernel.metrics import RequestMetrics
from edge.kernel.middleware import node_middleware
from edge.kernel.static_assets import STATIC_DIR, StaticAssets, static_route
from edge.kernel.templating import build_environment
from edge.market import desk as market_desk
from edge.market import routes as market_routes
from edge.me import routes as me_routes
from edge.news import routes as news_routes
from edge.node import EdgeNode
from edge.policies import routes as policies_routes
from edge.powers import routes as powers_routes
from edge.powers.loader import power_list
from edge.push import routes as push_routes
from edge.pwa import routes as pwa_routes
from edge.ratings import routes as ratings_routes
from edge.reference import prepare_database
from edge.review import routes as review_routes
from edge.seals import routes as seal_routes
from edge.settings import Settings
from edge.sms import routes as sms_routes
from edge.supervision import routes as supervision_routes
from edge.tracking import routes as tracking_routes
from edge.worker import waker

# Pages every anonymous visitor gets the same, kept in memory per content version (issue 17):
# these with what lies below them; lists and forms exactly as named (never /track/{code});
# sign-in forms, whose POST needs the node's one visitor cookie from a browser that names no
# origin, carry it to a browser without it.
PUBLIC_PAGES = ("/", "/services", "/disclosure", "/news")
PUBLIC_LISTS = ("/track", "/feedback", "/market")
PUBLIC_FORMS = ("/login", "/me/login")


def create_app(settings: Settings, clock: Clock = system_clock) -> Starlette:
    """Build the edge app; the database is migrated and reference data loaded at start-up."""
    db = Database(settings.database_path)
    power_list()  # the power list ships with the code: checked at start-up, like the catalog
    static = StaticAssets(STATIC_DIR)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            await prepare_database(db)
            yield
        finally:
            await db.close()

    metrics = RequestMetrics()
    routes = node_routes(static)
    app = NodeApplication(
        routes=routes,
        middleware=node_middleware(
            cookie_secure=settings.web.cookie_secure,
            keys_dir=settings.keys_dir,
            metrics=metrics,
            public_paths=PUBLIC_PAGES,
            trusted_proxies=settings.web.trusted_proxies,
            public_exact=PUBLIC_LISTS,
            public_forms=PUBLIC_FORMS,
        ),
        exception_handlers=errors.handlers,
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.node = EdgeNode(
        settings=settings,
        clock=clock,
        db=db,
        templates=build_environment(static, HOME),
        homes=HOME,
        record_login=login_recorder(settings.keys_dir),
        blobs=BlobStore(settings.blobs_dir),
        wake_worker=waker(settings),
    )
    return app


def node_routes(static: StaticAssets) -> list[BaseRoute]:
    """Every route of an edge node, feature by feature: the names that templates and handlers
    resolve (`edge.kernel.urls`)."""
    return [
        *home_routes.routes,
        *catalog_routes.routes,
        *disclosure_routes.routes,
        *powers_routes.routes,
        *auth_routes.routes,
        *intake_routes.routes,
        *agent_outbox_routes.routes,
        *review_routes.routes,
        *tracking_routes.routes,
        *me_routes.routes,
        *ratings_routes.routes,
        *seal_routes.routes,
        *accounts_routes.routes,
        *sms_routes.routes,
        *health_routes.routes,
        *pwa_routes.routes,
        *push_routes.routes,
        *policies_routes.routes,
        *affairs_routes.routes,
        *elections_routes.routes,
        *news_routes.routes,
        *market_desk.routes,
        *market_routes.routes,
        *supervision_routes.routes,
        *feedback_routes.routes,
        *feedback_agent.routes,
        static_route(static),
    ]
