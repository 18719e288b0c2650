"""/disclosure/policies at central: the city's policies in force (its own and each township's);
a central admin publishes a city-wide one at /disclosure/policies/new, sent to every node."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from central.feed.publish import publish_city_policy
from central.node import central_node
from central.policies import queries
from edge.audit.log import append as audit
from edge.catalog import queries as catalog
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.policies.forms import parse_day, parse_policy
from edge.policies.reference import shown
from edge.workdays.local import local_today
from replication.feed.commands import CityPolicy

ADMIN = "central_admin"


async def policy_list(request: Request) -> Response:
    """Every policy in force in the city."""
    node = central_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    async with node.db.read() as db:
        rows = await queries.in_force(db, today)
    return render(request, "central/policies/list.html", {"policies": rows, "policy_text": shown})


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "central/policies/new.html",
        {"values": values, "errors": errors, "key": str(ULID())},
        status_code=status,
    )


async def new(request: Request) -> Response:
    """The form for a city-wide policy."""
    require(request, ADMIN)
    node = central_node(request)
    return _form(request, {"valid_from": local_today(node.clock(), node.settings.web.timezone)}, {})


def _command(policy_id: str, values: dict[str, Any], now: str) -> CityPolicy:
    start = parse_day(values["valid_from"])
    if start is None:  # parse_policy refused it already
        raise ValueError("valid_from")
    return CityPolicy(
        id=policy_id,
        title=values["title"],
        issuer=values["issuer"],
        eligibility=values["eligibility"],
        amount=values["amount"],
        how_to_apply=values["how_to_apply"],
        item_code=values["item_code"],
        valid_from=start,
        valid_to=parse_day(values["valid_to"]) if values["valid_to"] else None,
        published_at=now,
    )


async def create(request: Request) -> Response:
    """Publish a city-wide policy: kept here and appended to every node's feed, in one
    transaction; once per idempotency key; in central's audit log."""
    account = require(request, ADMIN)
    node = central_node(request)
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
            if await idempotency.replay(db, key, account.id, digest) is None:
                policy_id = str(ULID())
                await queries.create(db, policy_id, values, account.id, now)
                await publish_city_policy(db, _command(policy_id, values, now), now)
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
    return RedirectResponse(path_for(request, "policies:list"), status_code=303)


routes = [
    Route("/disclosure/policies", policy_list, methods=["GET"], name="policies:list"),
    Route("/disclosure/policies/new", new, methods=["GET"], name="policies:new"),
    Route(
        "/disclosure/policies/new", csrf.protected(create), methods=["POST"], name="policies:create"
    ),
]
