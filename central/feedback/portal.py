"""/feedback at central: every township's public 我有话说 items in one list (masked as on the
edges), filtered by township, category and state; an item a county department handles here
has its public page here, the others link to their township's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from central import nodes
from central.feedback import queries
from central.node import central_node
from edge.feedback import public, states
from edge.feedback.routing import routing
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.ratings import levels

FILTERS = ("township", "category", "state")


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 10_000 else 1


def _shown(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind_of": routing().kind,
        "category_of": routing().category,
        "categories": routing().categories,
        "states": states.STATES,
        "state_label": states.label,
        "rating_label": levels.label,
        "author_of": public.author,
        "text_of": public.text,
        "answer_of": public.answer,
        **extra,
    }


def _filters(request: Request, known_nodes: set[str]) -> dict[str, str]:
    """The filters asked for; an unknown value is dropped, not an error."""
    query = request.query_params
    asked = {name: query.get(name, "")[:40] for name in FILTERS}
    if asked["township"] not in known_nodes:
        asked["township"] = ""
    if routing().category(asked["category"]) is None:
        asked["category"] = ""
    if asked["state"] not in states.STATES:
        asked["state"] = ""
    return asked


async def listing(request: Request) -> Response:
    """Public items of every township, newest first, 20 a page (three queries for any page)."""
    page = _page_number(request.query_params.get("page", "1"))
    async with central_node(request).db.read() as db:
        townships = await nodes.all_nodes(db)
        filters = _filters(request, {n["node_id"] for n in townships})
        rows, total = await queries.city_page(
            db, filters["township"], filters["category"], filters["state"], page
        )
    pages = max(1, (total + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE)
    return render(
        request,
        "central/feedback/list.html",
        _shown(
            {
                "rows": rows,
                "total": total,
                "page": page,
                "pages": pages,
                "townships": townships,
                "township_item": _township_items(townships),
                "filters": filters,
            }
        ),
        fragment="central/feedback/_results.html",
    )


def _township_items(townships: list[Any]) -> Callable[[str, str], str]:
    """The address of an item's page on its own township's site ('' for a node with no public
    address): that node's page, which central cannot name by route."""
    bases = {n["node_id"]: n["base_url"] for n in townships if n["base_url"]}

    def township_item(node_id: str, item_id: str) -> str:
        base = bases.get(node_id)
        return f"{base.rstrip('/')}/feedback/{item_id}" if base else ""

    return township_item


async def item(request: Request) -> Response:
    """One public item, its official answer and history, masked as on the township's page."""
    node_id, item_id = request.path_params["node_id"], request.path_params["item_id"]
    async with central_node(request).db.read() as db:
        row = await queries.public_item(db, item_id)
        if row is None or row["node_id"] != node_id:
            raise HTTPException(status_code=404, detail=_("没有找到这条留言。"))
        history = await queries.events(db, node_id, item_id)
        townships = await nodes.all_nodes(db)
    return render(
        request,
        "central/feedback/public_item.html",
        _shown(
            {
                "row": row,
                "history": history,
                "township_item_url": _township_items(townships)(node_id, item_id),
            }
        ),
    )


routes = [
    Route("/feedback", listing, methods=["GET"], name="feedback:city"),
    Route("/feedback/{node_id}/{item_id}", item, methods=["GET"], name="feedback:city_item"),
]
