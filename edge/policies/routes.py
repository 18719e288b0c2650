"""/disclosure/policies: benefit policies in force, the archive, one policy; township staff
publish the township's own at /staff/policies/new (city-wide ones come down the feed)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.audit.log import append as audit
from edge.catalog import queries as catalog
from edge.disclosure.routes import print_sheet
from edge.jurisdictions import queries as places
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.policies import queries
from edge.policies.forms import parse_policy
from edge.policies.reference import shown
from edge.policies.sheet import policy_sheet, seal_policy
from edge.workdays.local import local_today

WRITERS = ("township_staff",)


async def policy_list(request: Request) -> Response:
    """Policies in force (or, with ?archive=1, those that expired)."""
    node = edge_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    archive = request.query_params.get("archive") == "1"
    async with node.db.read() as db:
        rows = await (queries.archived(db, today) if archive else queries.current(db, today))
    return render(
        request,
        "edge/policies/list.html",
        {"policies": rows, "archive": archive, "today": today, "policy_text": shown},
    )


async def detail(request: Request) -> Response:
    """One policy: who qualifies, how much, how to apply (the catalog item), validity."""
    node = edge_node(request)
    async with node.db.read() as db:
        row = await queries.get(db, request.path_params["policy_id"])
        item = None
        if row is not None and row["item_code"]:
            item = await catalog.item(db, row["item_code"])
        villages = await places.villages_of(db, node.settings.township_code)
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这项政策。"))
    today = local_today(node.clock(), node.settings.web.timezone)
    expired = row["valid_to"] is not None and row["valid_to"] < today.isoformat()
    return render(
        request,
        "edge/policies/detail.html",
        {
            "policy": row,
            "item": item,
            "expired": expired,
            "villages": villages,
            "policy_text": shown,
        },
    )


async def policy_sheet_page(request: Request) -> Response:
    """The policy as the sealed notice-board sheet of one village's board (or the
    township's); sealed when it was published, so printing writes nothing."""
    node = edge_node(request)
    policy_id = request.path_params["policy_id"]
    async with node.db.read() as db:
        row = await queries.get(db, policy_id)
        villages = await places.villages_of(db, node.settings.township_code)
        township = await places.get(db, node.settings.township_code)
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这项政策。"))
    chosen = request.query_params.get("village", "")
    place = next((v for v in villages if v["code"] == chosen), township)
    sheet = policy_sheet(row, place["name_zh"] if place else "", node.settings.web.public_base)
    back = path_for(request, "policies:detail", policy_id=policy_id)
    return await print_sheet(request, sheet, back)


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "edge/policies/new.html",
        {"values": values, "errors": errors, "key": str(ULID())},
        status_code=status,
    )


async def new(request: Request) -> Response:
    """The form for a township policy."""
    require(request, *WRITERS)
    node = edge_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    return _form(request, {"valid_from": today.isoformat()}, {})


async def create(request: Request) -> Response:
    """Publish a township policy; once per idempotency key; audit-logged."""
    account = require(request, *WRITERS)
    node = edge_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    async with node.db.read() as db:
        known = {row["code"] for row in await catalog.search(db, catalog.CatalogFilter())}
    values, errors = parse_policy(form, known)
    if errors:
        return _form(request, values, errors, 400)
    digest = idempotency.request_hash(values)
    now = stamp(node.clock())
    try:
        async with node.db.write() as db:
            earlier = await idempotency.replay(db, key, account.id, digest)
            if earlier is not None:
                policy_id = earlier.id
            else:
                scope = node.settings.township_code
                policy_id = await queries.create(db, values, scope, account.id, now)
                await seal_policy(db, node.settings, policy_id, now)
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action="publish_policy",
                    object_type="policy",
                    object_id=policy_id,
                    result="ok",
                    at=now,
                )
                result = idempotency.Result("policy", policy_id)
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    url = path_for(request, "policies:detail", policy_id=policy_id)
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/disclosure/policies", policy_list, methods=["GET"], name="policies:list"),
    Route("/disclosure/policies/{policy_id}", detail, methods=["GET"], name="policies:detail"),
    Route(
        "/disclosure/policies/{policy_id}/sheet",
        policy_sheet_page,
        methods=["GET"],
        name="policies:sheet",
    ),
    Route("/staff/policies/new", new, methods=["GET"], name="policies:new"),
    Route("/staff/policies/new", csrf.protected(create), methods=["POST"], name="policies:create"),
]
