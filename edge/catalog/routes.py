"""/services (search and filter), /services/{code} (guide), /services/{code}/notice (print)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.catalog import queries
from edge.catalog.filters import catalog_filter
from edge.catalog.item import CatalogItem
from edge.catalog.labels import LABELS
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.node import edge_node


async def service_list(request: Request) -> Response:
    """The catalog, or only its results when htmx refreshes them while typing."""
    async with edge_node(request).db.read() as db:
        departments = await queries.departments(db)
        wanted = catalog_filter(request.query_params, (d["code"] for d in departments))
        items = await queries.search(db, wanted)
    return render(
        request,
        "edge/catalog/list.html",
        {"items": items, "departments": departments, "wanted": wanted},
        fragment="edge/catalog/_results.html",
    )


async def item_or_404(request: Request) -> CatalogItem:
    """The active item named by the `code` path parameter, or a 404 page."""
    async with edge_node(request).db.read() as db:
        item = await queries.item(db, request.path_params["code"])
    if item is None:
        raise HTTPException(status_code=404, detail=_("没有找到这个办事事项，请返回目录重新查找。"))
    return item


async def _guide_context(request: Request) -> dict[str, Any]:
    """The item, the names of its departments and the names of coded values."""
    item = await item_or_404(request)
    async with edge_node(request).db.read() as db:
        departments = await queries.department_names(db)
    return {"item": item, "departments": departments, "labels": LABELS}


async def service_guide(request: Request) -> Response:
    """Everything a resident needs to know before going to the village service point."""
    return render(request, "edge/catalog/guide.html", await _guide_context(request))


async def service_notice(request: Request) -> Response:
    """The printable one-time notice (一次性告知单)."""
    return render(request, "edge/catalog/notice.html", await _guide_context(request))


routes = [
    Route("/services", service_list, methods=["GET"], name="catalog:list"),
    Route("/services/{code}", service_guide, methods=["GET"], name="catalog:guide"),
    Route("/services/{code}/notice", service_notice, methods=["GET"], name="catalog:notice"),
]
