"""/disclosure/elections: candidate publicity running today (off the list by date when its
period ends, no job), the archive, one publicity with the objection link into 我有话说;
township staff write them at /staff/elections/new."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound, Route
from ulid import ULID

from edge.audit.log import append as audit
from edge.elections import queries
from edge.elections.forms import CANDIDATE_ROWS, parse_election
from edge.home.village import chosen_village
from edge.jurisdictions import queries as places
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.workdays.local import local_today

WRITERS = ("township_staff",)
FEEDBACK_NEW = "/feedback/new"  # the public contract (DESIGN.md 6b)


def _today(request: Request) -> Any:
    node = edge_node(request)
    return local_today(node.clock(), node.settings.web.timezone)


async def election_list(request: Request) -> Response:
    """Publicities running today (my village's, or all of the township's), or the archive."""
    archive = request.query_params.get("archive") == "1"
    today = _today(request)
    async with edge_node(request).db.read() as db:
        village = await chosen_village(request, db)
        code = village["code"] if village else None
        rows = await (queries.archived if archive else queries.open_on)(db, today, code)
    return render(
        request,
        "edge/elections/list.html",
        {"elections": rows, "archive": archive, "village": village},
    )


def objection_path(request: Request, election: Any) -> str:
    """Where an objection goes: 我有话说's form with the election named (edge/feedback, built in
    parallel; its literal path until its route is there)."""
    try:
        base = path_for(request, "feedback:new")
    except NoMatchFound:
        base = FEEDBACK_NEW
    query = urlencode(
        {"topic": "election", "election": election["id"], "village": election["village_code"]}
    )
    return f"{base}?{query}"


async def detail(request: Request) -> Response:
    """One publicity: candidates in full (public by law), never an ID number or a phone."""
    async with edge_node(request).db.read() as db:
        row = await queries.get(db, request.path_params["election_id"])
        people = await queries.candidates(db, row["id"]) if row else []
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这项公示。"))
    today = _today(request).isoformat()
    return render(
        request,
        "edge/elections/detail.html",
        {
            "election": row,
            "candidates": people,
            "running": row["starts_on"] <= today <= row["ends_on"],
            "ended": row["ends_on"] < today,
            "objection": objection_path(request, row),
        },
    )


async def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    node = edge_node(request)
    async with node.db.read() as db:
        villages = await places.villages_of(db, node.settings.township_code)
    rows = values.get("rows") or []
    rows = rows + [{"name": "", "role": ""}] * (CANDIDATE_ROWS - len(rows))
    return render(
        request,
        "edge/elections/new.html",
        {
            "values": values,
            "rows": rows,
            "errors": errors,
            "villages": villages,
            "key": str(ULID()),
        },
        status_code=status,
    )


async def new(request: Request) -> Response:
    """The form for a publicity (default period: seven days from today)."""
    require(request, *WRITERS)
    today = _today(request)
    return await _form(request, {"starts_on": today.isoformat()}, {})


async def create(request: Request) -> Response:
    """Publish a candidate publicity; once per idempotency key; audit-logged."""
    account = require(request, *WRITERS)
    node = edge_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    async with node.db.read() as db:
        allowed = {v["code"] for v in await places.villages_of(db, node.settings.township_code)}
    values, candidates, errors = parse_election(form, allowed)
    if errors:
        return await _form(request, values, errors, 400)
    digest = idempotency.request_hash(values)
    now = stamp(node.clock())
    try:
        async with node.db.write() as db:
            earlier = await idempotency.replay(db, key, account.id, digest)
            if earlier is not None:
                election_id = earlier.id
            else:
                election_id = await queries.create(db, values, candidates, account.id, now)
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action="publish_election",
                    object_type="election",
                    object_id=election_id,
                    result="ok",
                    at=now,
                )
                result = idempotency.Result("election", election_id)
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    url = path_for(request, "elections:detail", election_id=election_id)
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/disclosure/elections", election_list, methods=["GET"], name="elections:list"),
    Route("/disclosure/elections/{election_id}", detail, methods=["GET"], name="elections:detail"),
    Route("/staff/elections/new", new, methods=["GET"], name="elections:new"),
    Route(
        "/staff/elections/new", csrf.protected(create), methods=["POST"], name="elections:create"
    ),
]
