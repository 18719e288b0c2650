"""/healthz as JSON for monitors and central."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from edge import __version__


async def healthz(request: Request) -> JSONResponse:
    """Node id, version, database reachable, schema version, catalog version."""
    state = request.app.state
    body: dict[str, object] = {"node_id": state.settings.node_id, "version": __version__}
    try:
        async with (
            state.db.read() as db,
            db.execute(
                "SELECT (SELECT user_version FROM pragma_user_version) AS schema_version, "
                "(SELECT version FROM catalog_meta) AS catalog_version"
            ) as cursor,
        ):
            row = await cursor.fetchone()
        body |= {"database_ok": True, "schema_version": row[0], "catalog_version": row[1]}
        status = 200
    except sqlite3.Error:
        body |= {"database_ok": False, "schema_version": None, "catalog_version": None}
        status = 503
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


routes = [Route("/healthz", healthz, methods=["GET"])]
