"""/disclosure/affairs: a village's published 村务/党务/财务 disclosures and its schedule;
agents (their village) and township staff write them at /agent/affairs and /staff/affairs/new,
a township reviewer publishes or returns them with a reason at /staff/affairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.affairs import periods, queries
from edge.affairs.forms import LINE_ROWS, parse_affair, parse_review
from edge.affairs.money import yuan
from edge.affairs.records import total
from edge.affairs.schedule import kinds, legal_source, schedule_cards
from edge.affairs.sheet import affair_sheet, seal_affair
from edge.agent_outbox import replies
from edge.audit.log import append as audit
from edge.disclosure.routes import print_sheet
from edge.home.village import chosen_village
from edge.jurisdictions import queries as places
from edge.jurisdictions.codes import contains
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.errors import wants_json
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.workdays.local import local_today

WRITERS = ("agent", "township_staff")
REVIEWERS = ("township_staff",)


def _today(request: Request) -> Any:
    node = edge_node(request)
    return local_today(node.clock(), node.settings.web.timezone)


def _warning_days(request: Request) -> int:
    return edge_node(request).settings.disclosure_warning_working_days


async def affair_list(request: Request) -> Response:
    """A village's published disclosures, newest first, and what it still owes (cards)."""
    node = edge_node(request)
    async with node.db.read() as db:
        village = await chosen_village(request, db)
        villages = [] if village else await places.villages_of(db, node.settings.township_code)
        rows = await queries.published(db, village["code"]) if village else []
        cards = (
            await schedule_cards(db, _today(request), village["code"], _warning_days(request))
            if village
            else []
        )
    return render(
        request,
        "edge/affairs/list.html",
        {
            "village": village,
            "villages": villages,
            "affairs": rows,
            "cards": cards,
            "kinds": kinds(),
            "source": legal_source(),
        },
    )


def _may_see(account: Account | None, row: aiosqlite.Row) -> bool:
    if row["status"] == "published":
        return True
    if account is None:
        return False
    if account.id == row["created_by"]:
        return True
    return account.role in REVIEWERS and contains(account.jurisdiction_code, row["village_code"])


async def detail(request: Request) -> Response:
    """One disclosure; a finance table with its totals. Unpublished ones only to their author
    and the township's reviewers."""
    account = request.scope.get("account")
    async with edge_node(request).db.read() as db:
        row = await queries.get(db, request.path_params["affair_id"])
        lines = await queries.lines(db, row["id"]) if row else []
    if row is None or not _may_see(account, row):
        raise HTTPException(status_code=404, detail=_("没有找到这条公开信息。"))
    reviewer = (
        account is not None
        and account.role in REVIEWERS
        and contains(account.jurisdiction_code, row["village_code"])
    )
    return render(
        request,
        "edge/affairs/detail.html",
        {
            "affair": row,
            "lines": lines,
            "income": total(lines, "income"),
            "spending": total(lines, "spending"),
            "yuan": yuan,
            "kinds": kinds(),
            "reviewer": reviewer and row["status"] == "pending",
            "author": account is not None and account.id == row["created_by"],
            "key": str(ULID()),
            "errors": {},
            "reason": "",
        },
    )


async def sheet(request: Request) -> Response:
    """A published disclosure as its village's sealed notice-board sheet; sealed when the
    reviewer published it, so printing writes nothing."""
    node = edge_node(request)
    async with node.db.read() as db:
        row = await queries.get(db, request.path_params["affair_id"])
        lines = await queries.lines(db, row["id"]) if row else []
    if row is None or row["status"] != "published":
        raise HTTPException(status_code=404, detail=_("没有找到这条公开信息。"))
    back = path_for(request, "affairs:detail", affair_id=row["id"])
    return await print_sheet(request, affair_sheet(row, lines, node.settings.web.public_base), back)


async def _villages_for(db: aiosqlite.Connection, account: Account, township: str) -> list[Any]:
    villages = await places.villages_of(db, township)
    return [v for v in villages if contains(account.jurisdiction_code, v["code"])]


async def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    node = edge_node(request)
    account = require(request, *WRITERS)
    async with node.db.read() as db:
        villages = await _villages_for(db, account, node.settings.township_code)
    rows = values.get("lines") or []
    rows = rows + [{"direction": "spending", "label": "", "amount": ""}] * (LINE_ROWS - len(rows))
    return render(
        request,
        "edge/affairs/new.html",
        {
            "values": values,
            "rows": rows,
            "errors": errors,
            "villages": villages,
            "kinds": kinds(),
            "key": str(ULID()),
            "action": path_for(
                request, "affairs:agent_create" if account.role == "agent" else "affairs:create"
            ),
        },
        status_code=status,
    )


async def new(request: Request) -> Response:
    """The form; `?from=<id>` fills it from a returned disclosure of the same author."""
    account = require(request, *WRITERS)
    values: dict[str, Any] = {
        "kind": "finance",
        "period": periods.current("month", _today(request)),
        "village": account.jurisdiction_code,
    }
    source = request.query_params.get("from")
    if source:
        async with edge_node(request).db.read() as db:
            row = await queries.get(db, source)
            lines = await queries.lines(db, source) if row else []
        if row is not None and row["created_by"] == account.id:
            values = {
                "village": row["village_code"],
                "kind": row["kind"],
                "period": row["period"],
                "title": row["title"],
                "body": row["body"],
                "income_total": yuan(total(lines, "income")).replace(",", ""),
                "spending_total": yuan(total(lines, "spending")).replace(",", ""),
                "lines": [
                    {"direction": x.direction, "label": x.label, "amount": yuan(x.amount_fen)}
                    for x in lines
                ],
            }
    return await _form(request, values, {})


async def _record(
    db: aiosqlite.Connection,
    keys_dir: Path,
    account: Account,
    action: str,
    affair_id: str,
    now: str,
) -> None:
    await audit(
        db,
        keys_dir,
        actor_id=account.id,
        role=account.role,
        jurisdiction_code=account.jurisdiction_code,
        action=action,
        object_type="affair",
        object_id=affair_id,
        result="ok",
        at=now,
    )


def _key(form: Any) -> str:
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    return key


async def create(request: Request) -> Response:
    """Save a draft or send it for review; once per idempotency key; audit-logged."""
    account = require(request, *WRITERS)
    node = edge_node(request)
    form = await request.form()
    key = _key(form)
    async with node.db.read() as db:
        allowed = {v["code"] for v in await _villages_for(db, account, node.settings.township_code)}
    values, lines, errors = parse_affair(form, allowed)
    if errors and wants_json(request):  # from the agent app's outbox: it keeps the form
        return await _sent_back(request, key, account, errors)
    if errors:
        return await _form(request, values, errors, 400)
    status = "draft" if form.get("save") == "draft" else "pending"
    digest = idempotency.request_hash({**values, "status": status})
    now = stamp(node.clock())
    try:
        async with node.db.write() as db:
            earlier = await idempotency.replay(db, key, account.id, digest)
            if earlier is not None:
                affair_id = earlier.id
            else:
                affair_id = await queries.create(db, values, lines, status, account.id, now)
                await _record(
                    db, node.settings.keys_dir, account, f"affair_{status}", affair_id, now
                )
                result = idempotency.Result("affair", affair_id)
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    shown = path_for(request, "affairs:detail", affair_id=affair_id)
    if wants_json(request):
        return replies.accepted(shown)
    return RedirectResponse(shown, 303)


async def _sent_back(
    request: Request, key: str, account: Account, errors: dict[str, str]
) -> Response:
    """The outbox's answer to a form that does not pass: the first try's disclosure if this
    key was accepted before (a retry no longer passing, e.g. a new month), else the errors."""
    async with edge_node(request).db.read() as db:
        done = await idempotency.earlier_result(db, key, account.id)
    if done is not None:
        return replies.accepted(path_for(request, "affairs:detail", affair_id=done.id))
    return replies.sent_back(errors)


async def submit(request: Request) -> Response:
    """The author sends a draft for review."""
    account = require(request, *WRITERS)
    node = edge_node(request)
    form = await request.form()
    key = _key(form)
    affair_id = request.path_params["affair_id"]
    digest = idempotency.request_hash({"submit": affair_id})
    now = stamp(node.clock())
    try:
        async with node.db.write() as db:
            row = await queries.get(db, affair_id)
            if row is None or row["created_by"] != account.id:
                raise HTTPException(status_code=404, detail=_("没有找到这条公开信息。"))
            if await idempotency.replay(db, key, account.id, digest) is None:
                if not await queries.submit(db, affair_id, now):
                    raise HTTPException(status_code=409, detail=_("这条公开信息已经提交过了。"))
                await _record(db, node.settings.keys_dir, account, "affair_pending", affair_id, now)
                result = idempotency.Result("affair", affair_id)
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse(path_for(request, "affairs:detail", affair_id=affair_id), 303)


async def review(request: Request) -> Response:
    """Publish a waiting disclosure or return it with a reason; audit-logged."""
    account = require(request, *REVIEWERS)
    node = edge_node(request)
    form = await request.form()
    key = _key(form)
    affair_id = request.path_params["affair_id"]
    action, reason, errors = parse_review(form)
    async with node.db.read() as db:
        row = await queries.get(db, affair_id)
        lines = await queries.lines(db, affair_id) if row else []
    if row is None or not contains(account.jurisdiction_code, row["village_code"]):
        raise HTTPException(status_code=404, detail=_("没有找到这条公开信息。"))
    if errors:
        return render(
            request,
            "edge/affairs/detail.html",
            {
                "affair": row,
                "lines": lines,
                "income": total(lines, "income"),
                "spending": total(lines, "spending"),
                "yuan": yuan,
                "kinds": kinds(),
                "reviewer": row["status"] == "pending",
                "author": account.id == row["created_by"],
                "key": key,
                "errors": errors,
                "reason": reason,
            },
            status_code=400,
        )
    digest = idempotency.request_hash({"review": affair_id, "action": action, "reason": reason})
    now = stamp(node.clock())
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is None:
                approve = action == "approve"
                if not await queries.review(db, affair_id, approve, reason, account.id, now):
                    raise HTTPException(status_code=409, detail=_("这条公开信息已经审核过了。"))
                if approve:
                    await seal_affair(db, node.settings, affair_id, now)
                verb = "affair_published" if approve else "affair_returned"
                await _record(db, node.settings.keys_dir, account, verb, affair_id, now)
                result = idempotency.Result("affair", affair_id)
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse(path_for(request, "affairs:queue"), 303)


async def queue(request: Request) -> Response:
    """The township's review queue and every village's yellow and red schedule cards."""
    account = require(request, *REVIEWERS)
    async with edge_node(request).db.read() as db:
        rows = await queries.waiting(db, account.jurisdiction_code[:9])
        cards = await schedule_cards(
            db, _today(request), account.jurisdiction_code, _warning_days(request)
        )
    return render(
        request,
        "edge/affairs/queue.html",
        {"waiting": rows, "cards": cards, "kinds": kinds(), "source": legal_source()},
    )


async def mine(request: Request) -> Response:
    """What I wrote: drafts, waiting, returned (with the reason) and published."""
    account = require(request, *WRITERS)
    async with edge_node(request).db.read() as db:
        rows = await queries.written_by(db, account.id)
        cards = await schedule_cards(
            db, _today(request), account.jurisdiction_code, _warning_days(request)
        )
    return render(
        request, "edge/affairs/mine.html", {"affairs": rows, "cards": cards, "kinds": kinds()}
    )


routes = [
    Route("/disclosure/affairs", affair_list, methods=["GET"], name="affairs:list"),
    Route("/disclosure/affairs/{affair_id}", detail, methods=["GET"], name="affairs:detail"),
    Route("/disclosure/affairs/{affair_id}/sheet", sheet, methods=["GET"], name="affairs:sheet"),
    Route("/agent/affairs", mine, methods=["GET"], name="affairs:mine"),
    Route("/agent/affairs/new", new, methods=["GET"], name="affairs:agent_new"),
    Route(
        "/agent/affairs/new", csrf.protected(create), methods=["POST"], name="affairs:agent_create"
    ),
    Route(
        "/agent/affairs/{affair_id}/submit",
        csrf.protected(submit),
        methods=["POST"],
        name="affairs:submit",
    ),
    Route("/staff/affairs", queue, methods=["GET"], name="affairs:queue"),
    Route("/staff/affairs/new", new, methods=["GET"], name="affairs:new"),
    Route("/staff/affairs/new", csrf.protected(create), methods=["POST"], name="affairs:create"),
    Route(
        "/staff/affairs/{affair_id}/review",
        csrf.protected(review),
        methods=["POST"],
        name="affairs:review",
    ),
]
