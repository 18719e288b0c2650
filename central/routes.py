"""Central's pages: the city overview (figures per township), /healthz and /metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from central import nodes
from central.monitor.metrics import metrics
from central.node import central_node
from central.overview import TownshipFigures, township_figures
from edge.kernel.health import health_response
from edge.kernel.templating import render
from edge.workdays.local import local_today


async def overview(request: Request) -> Response:
    """The townships this city's central node knows, each with this month's figures."""
    node = central_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    async with node.db.read() as db:
        rows = await nodes.all_nodes(db)
        figures = await township_figures(db, today)
    context = {"nodes": rows, "figures": figures, "blank": TownshipFigures()}
    return render(request, "central/overview.html", context)


async def healthz(request: Request) -> JSONResponse:
    """Central's own health: database reachable, schema version, townships known."""
    return await health_response(request, "central", {"nodes": "SELECT count(*) FROM nodes"})


routes = [
    Route("/", overview, methods=["GET"], name="central:overview"),
    Route("/healthz", healthz, methods=["GET"], name="central:healthz"),
    Route("/metrics", metrics, methods=["GET"], name="central:metrics"),
]
