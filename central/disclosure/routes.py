"""/disclosure/ at central: the index, the power list, one power with the city's real cases, and
results disclosure across every township (withheld cases left out once ingested)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central.node import central_node
from edge.disclosure import queries
from edge.disclosure.forms import parse_filter
from edge.disclosure.labels import DECISIONS
from edge.disclosure.results import pages, public_cases
from edge.kernel.templating import render
from edge.powers.listing import CASES_SHOWN, list_context, power_context, power_or_404
from edge.powers.queries import item_names

VILLAGES = "SELECT * FROM jurisdictions WHERE level = 'village' ORDER BY code"


async def index(request: Request) -> Response:
    """The sections of the city's public disclosure."""
    context = {"ratings_page": "central_ratings:disclosure"}
    return render(request, "edge/disclosure/index.html", context)


async def power_index(request: Request) -> Response:
    """The city's power list, the same data every township ships."""
    return render(request, "edge/powers/list.html", list_context(request))


async def power_page(request: Request) -> Response:
    """A power with its flow chart and the real cases of every township that used it."""
    power = power_or_404(request)
    async with central_node(request).db.read() as db:
        rows = await queries.cases_of_items(db, power.items, CASES_SHOWN, queries.CENTRAL)
        items = await item_names(db, power.items)
    return render(request, "edge/powers/power.html", power_context(power, rows, items))


async def results(request: Request) -> Response:
    """Decided cases of every township, newest first, masked; filters by GET, paginated."""
    async with central_node(request).db.read() as db:
        async with db.execute(VILLAGES) as cursor:
            villages = list(await cursor.fetchall())
        items = await queries.decided_items(db, queries.CENTRAL)
        wanted = parse_filter(
            request.query_params, {v["code"] for v in villages}, {i["code"] for i in items}
        )
        rows, total = await queries.cases(db, wanted, queries.CENTRAL)
    return render(
        request,
        "edge/disclosure/results.html",
        {
            "cases": public_cases(rows),
            "total": total,
            "pages": pages(total),
            "villages": villages,
            "items": items,
            "wanted": wanted,
            "decisions": DECISIONS,
            "sheet_route": "",
        },
    )


routes = [
    Route("/disclosure/", index, methods=["GET"], name="disclosure:index"),
    Route("/disclosure/powers", power_index, methods=["GET"], name="powers:list"),
    Route("/disclosure/powers/{code}", power_page, methods=["GET"], name="powers:power"),
    Route("/disclosure/results", results, methods=["GET"], name="disclosure:results"),
]
