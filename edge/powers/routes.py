"""/disclosure/powers (areas and powers, searchable by GET), one power with its flow chart and
real cases, and the power as a printable notice-board sheet."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.disclosure import queries as disclosed
from edge.disclosure.routes import print_sheet
from edge.disclosure.sheet import Sheet
from edge.jurisdictions import queries as places
from edge.kernel.templating import render
from edge.kernel.urls import path_for, public_url
from edge.node import edge_node
from edge.powers.listing import CASES_SHOWN, list_context, power_context, power_or_404
from edge.powers.loader import power_list
from edge.powers.queries import item_names
from edge.powers.sheet import power_lines


async def power_index(request: Request) -> Response:
    """The power list, by area; a GET search works without JS."""
    return render(request, "edge/powers/list.html", list_context(request) | {"sheets": True})


async def power_page(request: Request) -> Response:
    """A power: basis, who decides, conditions, flow chart, limits, disclosure, real cases."""
    power = power_or_404(request)
    node = edge_node(request)
    async with node.db.read() as db:
        rows = await disclosed.cases_of_items(db, power.items, CASES_SHOWN)
        villages = await places.villages_of(db, node.settings.township_code)
        items = await item_names(db, power.items)
    context = power_context(power, rows, items)
    return render(
        request,
        "edge/powers/power.html",
        context
        | {"catalog_links": True, "sheets": True, "villages": villages, "feedback_links": True},
    )


async def power_sheet(request: Request) -> Response:
    """The power as a sealed notice-board sheet for one village's board."""
    power = power_or_404(request)
    node = edge_node(request)
    async with node.db.read() as db:
        villages = await places.villages_of(db, node.settings.township_code)
        township = await places.get(db, node.settings.township_code)
    chosen = request.query_params.get("village", "")
    village = next((v for v in villages if v["code"] == chosen), township)
    powers = power_list()
    page = path_for(request, "powers:power", code=power.code)
    sheet = Sheet(
        title=f"村级小微权力清单：{power.name.zh}",
        village=village["name_zh"] if village else "",
        period=f"清单版本 {powers.version}",
        lines=power_lines(power, powers),
        online=public_url(request, "powers:power", code=power.code),
    )
    return await print_sheet(request, sheet, page)


routes = [
    Route("/disclosure/powers", power_index, methods=["GET"], name="powers:list"),
    Route("/disclosure/powers/{code}", power_page, methods=["GET"], name="powers:power"),
    Route("/disclosure/powers/{code}/sheet", power_sheet, methods=["GET"], name="powers:sheet"),
]
