"""Central's pages: the city overview and /healthz."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central import nodes
from central.node import central_node
from edge.kernel.health import health_response
from edge.kernel.templating import render


async def overview(request: Request) -> Response:
    """The townships this city's central node knows."""
    async with central_node(request).db.read() as db:
        rows = await nodes.all_nodes(db)
    return render(request, "central/overview.html", {"nodes": rows})


async def healthz(request: Request) -> JSONResponse:
    """Central's own health: database reachable, schema version, townships known."""
    return await health_response(request, "central", {"nodes": "SELECT count(*) FROM nodes"})


routes = [
    Route("/", overview, methods=["GET"], name="central:overview"),
    Route("/healthz", healthz, methods=["GET"], name="central:healthz"),
]
