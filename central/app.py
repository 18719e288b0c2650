"""create_app(settings): the central node's Starlette application, built on edge's kernel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from central import demo, nodes, roles, routes
from central.affairs import routes as affairs_routes
from central.audit import routes as audit_routes
from central.disclosure import routes as disclosure_routes
from central.elections import routes as elections_routes
from central.feed import routes as feed_routes
from central.feedback import api_keys, open311, portal
from central.feedback import routes as feedback_routes
from central.market import routes as market_routes
from central.monitor import routes as monitor_routes
from central.news import routes as news_routes
from central.node import CentralNode
from central.officer import routes as officer_routes
from central.policies import routes as policies_routes
from central.ratings import routes as ratings_routes
from central.schema import migrate_database
from central.settings import CentralSettings
from central.supervision import routes as supervision_routes
from edge.audit.log import login_recorder
from edge.kernel import errors
from edge.kernel.application import NodeApplication
from edge.kernel.auth import routes as auth_routes
from edge.kernel.clock import Clock, stamp, system_clock
from edge.kernel.db import Database
from edge.kernel.metrics import RequestMetrics
from edge.kernel.middleware import node_middleware
from edge.kernel.static_assets import STATIC_DIR, StaticAssets, static_route
from edge.kernel.templating import build_environment
from edge.reference import load_reference_data
from replication.objectstore import open_store

# The city's public pages, the same for every anonymous visitor, kept in memory per content
# version of central.db (issue 17): disclosure (policies, affairs, elections, ratings, the
# published assessment) with what lies below; the market and 我有话说 lists exactly.
PUBLIC_PAGES = ("/disclosure", "/news")
PUBLIC_LISTS = ("/market", "/feedback")


def create_app(settings: CentralSettings, clock: Clock = system_clock) -> Starlette:
    """Build the central app; central.db is migrated and the node registry applied at start-up."""
    db = Database(settings.database_path, replicated=False)
    static = StaticAssets(STATIC_DIR)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            await migrate_database(db)
            await load_reference_data(db)
            async with db.write() as conn:
                for node_id, township, url in nodes.parse_registry(settings.nodes):
                    await nodes.register(conn, node_id, township, url, stamp(clock()))
                if settings.web.demo:
                    await demo.load_demo(conn, settings.nodes, stamp(clock()))
            yield
        finally:
            await db.close()

    metrics = RequestMetrics()
    app = NodeApplication(
        routes=[
            *routes.routes,
            *feed_routes.routes,
            *audit_routes.routes,
            *monitor_routes.routes,
            *auth_routes.routes,
            *officer_routes.routes,
            *ratings_routes.routes,
            *policies_routes.routes,
            *affairs_routes.routes,
            *elections_routes.routes,
            *news_routes.routes,
            *disclosure_routes.routes,
            *market_routes.routes,
            *supervision_routes.routes,
            *feedback_routes.routes,
            *open311.routes,
            *portal.routes,
            *api_keys.routes,
            static_route(static),
        ],
        middleware=node_middleware(
            cookie_secure=settings.web.cookie_secure,
            keys_dir=settings.keys_dir,
            metrics=metrics,
            trusted_proxies=settings.web.trusted_proxies,
            public_paths=PUBLIC_PAGES,
            public_exact=PUBLIC_LISTS,
        ),
        exception_handlers=errors.handlers,
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.node = CentralNode(
        settings=settings,
        clock=clock,
        db=db,
        templates=build_environment(static, roles.HOME, layout="central/base.html"),
        homes=roles.HOME,
        record_login=login_recorder(settings.keys_dir),
        store=open_store(settings.store_config),
    )
    return app
