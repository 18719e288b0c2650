"""Central's pages: the city overview and /healthz."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central import nodes
from edge import __version__
from edge.templating import render


async def overview(request: Request) -> Response:
    """The townships this city's central node knows."""
    async with request.app.state.db.read() as db:
        rows = await nodes.all_nodes(db)
    return render(request, "central/overview.html", {"nodes": rows})


async def healthz(request: Request) -> JSONResponse:
    """Central's own health: database reachable, schema version, townships known."""
    body: dict[str, object] = {"node_id": "central", "version": __version__}
    try:
        async with (
            request.app.state.db.read() as db,
            db.execute(
                "SELECT (SELECT user_version FROM pragma_user_version), "
                "(SELECT count(*) FROM nodes)"
            ) as cursor,
        ):
            row = await cursor.fetchone()
        body |= {"database_ok": True, "schema_version": row[0], "nodes": row[1]}
        status = 200
    except sqlite3.Error:
        body |= {"database_ok": False, "schema_version": None, "nodes": None}
        status = 503
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


routes = [
    Route("/", overview, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]
