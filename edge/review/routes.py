"""/staff/...: the review queue (red first), an application's file, decisions, photos."""

from __future__ import annotations

from typing import Any

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.accounts.placement import kept_placement
from edge.applications import lifecycle, queries, states
from edge.applications.access import REVIEW_ROLES, can_view
from edge.applications.context import context_for, working_days_for
from edge.applications.decision import DecisionRefused, check, may_decide
from edge.applications.records import Application, Step
from edge.applications.tracking_code import format_code
from edge.audit.log import append as audit
from edge.catalog.labels import LABELS
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import done_url, path_for
from edge.node import edge_node
from edge.review.forms import parse_decision
from edge.review.queue_rows import waiting
from edge.workdays.arithmetic import CARD_LABELS
from edge.workdays.working_days import WorkingDays

VIEWER_ROLES = (*REVIEW_ROLES, "agent")


async def queue(request: Request) -> Response:
    """Steps waiting for me, overdue (red) first, then due soon (yellow)."""
    account = require(request, *REVIEW_ROLES)
    async with edge_node(request).db.read() as db:
        rows = await queries.review_queue(db, account)
        days = await working_days_for(request, db)
        place = await kept_placement(edge_node(request).db, db, account)
    return render(
        request,
        "edge/review/queue.html",
        {"entries": waiting(request, rows, days), "placement": place},
    )


async def _audit_read(
    db: aiosqlite.Connection,
    request: Request,
    account: Account,
    object_type: str,
    object_id: str,
    at: str,
) -> None:
    """Every staff read of personal data (a file, a photo) goes into the audit log."""
    await audit(
        db,
        edge_node(request).settings.keys_dir,
        actor_id=account.id,
        role=account.role,
        jurisdiction_code=account.jurisdiction_code,
        action="read_personal_data",
        object_type=object_type,
        object_id=object_id,
        result="ok",
        at=at,
    )


def _may_view(account: Account, app: Application) -> bool:
    return can_view(account, app.village_code, app.item.route_departments)


async def application(request: Request) -> Response:
    """The full file, personal data included; the read is written to the audit log."""
    account = require(request, *REVIEW_ROLES)
    node = edge_node(request)
    async with node.db.write() as db:
        app = await queries.application(db, request.path_params["application_id"])
        if app is None or not _may_view(account, app):
            raise HTTPException(status_code=404, detail=_("没有找到这件申请。"))
        await _audit_read(db, request, account, "application", app.id, stamp(node.clock()))
        steps = await queries.steps(db, app.id)
        attachments = await queries.attachments(db, app.id)
        supplements = await queries.supplements(db, app.id)
        seals = await queries.seals_of(db, app.id)
        days = await working_days_for(request, db)
    return _file_page(request, account, app, steps, attachments, supplements, seals, days, {}, {})


def _file_page(
    request: Request,
    account: Account,
    app: Application,
    steps: list[Step],
    attachments: list[Any],
    supplements: list[Any],
    seals: list[Any],
    days: WorkingDays,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    item = app.item
    here = not edge_node(request).settings.central_url
    mine = [s for s in steps if may_decide(account, s, app.village_code, app.status, here)]
    return render(
        request,
        "edge/review/application.html",
        {
            "app": app,
            "item": item,
            "steps": steps,
            "attachments": attachments,
            "supplements": supplements,
            "seals": seals,
            "form": app.form_data,
            "code": format_code(app.tracking_code),
            "mine": mine,
            "values": values,
            "errors": errors,
            "key": str(ULID()),
            "status_label": states.label,
            "labels": LABELS,
            "card": days.card,
            "card_labels": CARD_LABELS,
        },
        status_code=status,
    )


async def decide(request: Request) -> Response:
    """Approve, reject or return one step; once per idempotency key; answered after commit."""
    account = require(request, "township_staff", "officer")
    node = edge_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    async with node.db.read() as db:
        step = await queries.step(db, request.path_params["step_id"])
        app = None if step is None else await queries.application(db, step.application_id)
    if step is None or app is None or not _may_view(account, app):
        raise HTTPException(status_code=404, detail=_("没有找到这件申请。"))
    materials = app.item.material_keys
    decision, values = parse_decision(form, step.id, account, node.clock(), materials)
    errors = {field: str(message) for field, message in check(decision).items()}
    url = done_url(path_for(request, "review:application", application_id=app.id), "decided")
    result = idempotency.Result("application", app.id)
    digest = idempotency.request_hash({"step": step.id, **values})
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is not None:
                return RedirectResponse(url, status_code=303)
            if not errors:
                ctx = await context_for(request, db, account)
                await lifecycle.decide(db, ctx, decision)
                await idempotency.remember(db, key, account.id, digest, result, ctx.at)
                return RedirectResponse(url, status_code=303)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except (DecisionRefused, states.IllegalTransition) as exc:
        errors["action"] = str(exc)
    async with node.db.write() as db:
        await _audit_read(db, request, account, "application", app.id, stamp(node.clock()))
        parts = (
            await queries.steps(db, app.id),
            await queries.attachments(db, app.id),
            await queries.supplements(db, app.id),
            await queries.seals_of(db, app.id),
            await working_days_for(request, db),
        )
    return _file_page(request, account, app, *parts, values, errors, status=400)


async def attachment(request: Request) -> Response:
    """A photo or its thumbnail, only to people who may see the application."""
    account = require(request, *VIEWER_ROLES)
    async with edge_node(request).db.read() as db:
        row = await queries.attachment(db, request.path_params["attachment_id"])
        app = None if row is None else await queries.application(db, row["application_id"])
    if app is None or not _may_view(account, app):
        raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
    size = request.path_params.get("size")
    if size not in (None, "thumb"):
        raise HTTPException(status_code=404)
    thumb = size == "thumb"
    async with edge_node(request).db.write() as db:
        await _audit_read(
            db, request, account, "attachment", row["id"], stamp(edge_node(request).clock())
        )
    sha = row["thumb_sha256"] if thumb else row["sha256"]
    data = edge_node(request).blobs.read(sha)
    kind = row["thumb_content_type"] if thumb else row["content_type"]
    return Response(
        data,
        media_type=kind,
        headers={
            "Content-Disposition": f'inline; filename="{row["material_key"]}-{sha[:8]}.{kind[6:]}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


routes = [
    Route("/staff/", queue, methods=["GET"], name="review:queue"),
    Route(
        "/staff/applications/{application_id}",
        application,
        methods=["GET"],
        name="review:application",
    ),
    Route(
        "/staff/steps/{step_id}/decide",
        csrf.protected(decide),
        methods=["POST"],
        name="review:decide",
    ),
    Route(
        "/staff/attachments/{attachment_id}", attachment, methods=["GET"], name="review:attachment"
    ),
    Route(
        "/staff/attachments/{attachment_id}/{size}",
        attachment,
        methods=["GET"],
        name="review:attachment_size",
    ),
]
