"""/ shows the remembered village or asks for one; POST /village remembers the choice."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.home.village import VILLAGE_COOKIE
from edge.home.whats_new import whats_new
from edge.jurisdictions import queries as places
from edge.kernel import csrf, transport
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.peers import queries as peers
from edge.policies.reference import shown as shown_policy
from edge.workdays.local import local_today

ONE_YEAR = 365 * 24 * 3600


async def _page(request: Request, error: str = "", status: int = 200) -> Response:
    township = edge_node(request).settings.township_code
    node = edge_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    async with node.db.read() as db:
        villages = await places.villages_of(db, township)
        townships = await places.townships(db)
        addresses = await peers.addresses(db)
        chosen = request.cookies.get(VILLAGE_COOKIE, "")
        village = next((v for v in villages if v["code"] == chosen), None)
        new = await whats_new(db, village["code"], today) if village else None
    here = next((t for t in townships if t["code"] == township), None)
    others = [
        {"place": t, "url": addresses.get(t["code"], "")}
        for t in townships
        if t["code"] != township
    ]
    return render(
        request,
        "edge/home/index.html",
        {
            "village": village,
            "villages": villages,
            "township": here,
            "others": others,
            "error": error,
            "new": new,
            "policy_text": shown_policy,
        },
        status_code=status,
    )


async def home(request: Request) -> Response:
    """My village, or the form to pick it."""
    return await _page(request)


@csrf.preference
async def choose_village(request: Request) -> Response:
    """Remember the village picked (it must belong to this node's township)."""
    code = str((await request.form()).get("village", ""))
    async with edge_node(request).db.read() as db:
        village = await places.get(db, code)
    township = edge_node(request).settings.township_code
    if village is None or village["parent_code"] != township:
        return await _page(request, _("请从列表中选择您所在的村（社区）。"), 400)
    response = RedirectResponse(path_for(request, "catalog:list"), status_code=303)
    response.set_cookie(
        VILLAGE_COOKIE,
        code,
        max_age=ONE_YEAR,
        samesite="lax",
        httponly=True,
        secure=transport.secure(request.scope),
    )
    return response


routes = [
    Route("/", home, methods=["GET"], name="home:index"),
    Route("/village", choose_village, methods=["POST"], name="home:choose_village"),
]
