"""/disclosure/affairs at central: the villages that publish, one village's disclosures and
one disclosure with its finance table, as ingested from each township."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central.affairs import queries
from central.node import central_node
from edge.affairs.money import yuan
from edge.affairs.records import total
from edge.affairs.schedule import kinds
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render


async def affair_list(request: Request) -> Response:
    """Every village that published (`?village=` for one village's list)."""
    code = request.query_params.get("village", "")
    async with central_node(request).db.read() as db:
        places = await queries.villages(db)
        rows = await queries.published(db, code) if code else []
    village = next((v for v in places if v["village_code"] == code), None)
    return render(
        request,
        "central/affairs/list.html",
        {"villages": places, "village": village, "affairs": rows, "kinds": kinds()},
    )


async def detail(request: Request) -> Response:
    """One published disclosure."""
    node_id, affair_id = request.path_params["node_id"], request.path_params["affair_id"]
    async with central_node(request).db.read() as db:
        row = await queries.get(db, node_id, affair_id)
        lines = await queries.lines(db, node_id, affair_id) if row else []
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这条公开信息。"))
    return render(
        request,
        "central/affairs/detail.html",
        {
            "affair": row,
            "lines": lines,
            "income": total(lines, "income"),
            "spending": total(lines, "spending"),
            "yuan": yuan,
            "kinds": kinds(),
        },
    )


routes = [
    Route("/disclosure/affairs", affair_list, methods=["GET"], name="affairs:list"),
    Route(
        "/disclosure/affairs/{node_id}/{affair_id}", detail, methods=["GET"], name="affairs:detail"
    ),
]
