"""create_app(settings): the central node's Starlette application, built on edge's kernel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from central import nodes, routes
from central.schema import migrate_database
from central.settings import CentralSettings
from edge import errors
from edge.app import STATIC_DIR, node_middleware, static_route
from edge.clock import Clock, stamp, system_clock
from edge.db import Database
from edge.static_assets import StaticAssets
from edge.templating import build_environment


def create_app(settings: CentralSettings, clock: Clock = system_clock) -> Starlette:
    """Build the central app; central.db is migrated and the node registry applied at start-up."""
    db = Database(settings.database_path)
    static = StaticAssets(STATIC_DIR)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            await migrate_database(db)
            async with db.write() as conn:
                for node_id, township, url in nodes.parse_registry(settings.nodes):
                    await nodes.register(conn, node_id, township, url, stamp(clock()))
            yield
        finally:
            await db.close()

    app = Starlette(
        routes=[*routes.routes, static_route(static)],
        middleware=node_middleware(),
        exception_handlers=errors.handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.db = db
    app.state.templates = build_environment(static, layout="central/base.html")
    return app
