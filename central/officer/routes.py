"""/officer/...: county officers at central decide on every node's applications in their county."""

from __future__ import annotations

import re
from typing import Any

import aiosqlite
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from central.audit.record import record
from central.decisions import decide
from central.node import central_node
from central.officer import delivery, queries
from central.officer.forms import ACTION_LABELS, MATERIALS_FIELD, parse_decision
from edge.accounts.placement import kept_placement
from edge.applications import states
from edge.applications.decision import NO_SUCH_STEP, DecisionRefused, may_decide
from edge.applications.tracking_code import format_code
from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name, mask_text
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.workdays.arithmetic import CARD_LABELS, CARD_ORDER
from edge.workdays.working_days import WorkingDays, load_working_days
from replication.objectstore import StoreUnavailable, blob_key, verified

SHA256 = re.compile(r"[0-9a-f]{64}")


async def _working_days(request: Request, db: aiosqlite.Connection) -> WorkingDays:
    node = central_node(request)
    return await load_working_days(
        db, node.clock(), node.settings.web.timezone, node.settings.warning_working_days
    )


def _shown(context: dict[str, Any]) -> dict[str, Any]:
    """What every officer page shows besides its own rows."""
    return {
        **context,
        "card_labels": CARD_LABELS,
        "delivery_labels": delivery.LABELS,
        "delivery_badges": delivery.BADGES,
        "format_code": format_code,
        "mask_name": mask_name,
        "mask_text": mask_text,
    }


async def queue(request: Request) -> Response:
    """Every node's county steps waiting for my department in my county, red and yellow first."""
    officer = require(request, "officer")
    async with central_node(request).db.read() as db:
        rows = await queries.queue(db, officer)
        days = await _working_days(request, db)
        place = await kept_placement(central_node(request).db, db, officer)
    entries = sorted(
        (
            {
                "row": r,
                "card": days.card(r["due_on"]),
                "sent": delivery.queue_state(
                    r["command_id"], r["command_result"], r["sent_action"]
                ),
            }
            for r in rows
        ),
        key=lambda e: (CARD_ORDER[e["card"]], e["row"]["due_on"]),
    )
    return render(
        request, "central/officer/queue.html", _shown({"entries": entries, "placement": place})
    )


async def _load_file(request: Request, officer: Account) -> dict[str, Any]:
    """The application named by the path with everything its file page shows; 404 if hidden."""
    node_id = request.path_params["node_id"]
    application_id = request.path_params["application_id"]
    async with central_node(request).db.read() as db:
        app = await queries.application(db, officer, node_id, application_id)
        if app is None:
            raise HTTPException(status_code=404, detail=_("没有找到这件申请。"))
        return {
            "app": app,
            "steps": await queries.steps(db, node_id, application_id),
            "attachments": await queries.attachments(db, node_id, application_id),
            "supplements": await queries.supplements(db, node_id, application_id),
            "decisions": await queries.decisions(db, node_id, application_id),
            "days": await _working_days(request, db),
        }


def _pending_steps(file: dict[str, Any]) -> set[str]:
    return {d["step_id"] for d in file["decisions"] if delivery.state(d["result"]) == "pending"}


def _mine(officer: Account, file: dict[str, Any]) -> list[Any]:
    """The steps this officer may decide now (no decision of theirs is on its way)."""
    app, pending = file["app"], _pending_steps(file)
    return [
        s
        for s in file["steps"]
        if may_decide(officer, s, app.village_code, app.status) and s.id not in pending
    ]


def _file_page(
    request: Request,
    officer: Account,
    file: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    app = file["app"]
    days = file["days"]
    return render(
        request,
        "central/officer/application.html",
        _shown(
            {
                **file,
                "item": app.item,
                "form": app.form_data,
                "code": format_code(app.tracking_code),
                "mine": _mine(officer, file),
                "values": values,
                "errors": errors,
                "status_label": states.label,
                "card": days.card,
                "action_labels": ACTION_LABELS,
                "delivery_state": delivery.state,
                "materials_field": MATERIALS_FIELD,
            }
        ),
        status_code=status,
    )


async def _audit_read(request: Request, officer: Account, object_type: str, object_id: str) -> None:
    """An officer's read of personal data, in central's audit log before anything is shown."""
    node = central_node(request)
    async with node.db.write() as db:
        await record(
            db,
            node.settings.keys_dir,
            officer,
            "read_personal_data",
            object_type,
            object_id,
            stamp(node.clock()),
        )


async def application(request: Request) -> Response:
    """The full file (the one officer page with unmasked personal data) and the decision form;
    the read is written to central's audit log."""
    officer = require(request, "officer")
    file = await _load_file(request, officer)
    await _audit_read(request, officer, "application", f"{file['app'].node_id}:{file['app'].id}")
    return _file_page(request, officer, file, {}, {})


async def decide_step(request: Request) -> Response:
    """Seal the decision and send it down the node's feed; answered after commit."""
    officer = require(request, "officer")
    node = central_node(request)
    file = await _load_file(request, officer)
    app = file["app"]
    materials = app.item.material_keys
    decision, values = parse_decision(await request.form(), officer, node.clock(), materials)
    url = path_for(request, "officer:application", node_id=app.node_id, application_id=app.id)
    try:
        if decision.step_id not in {s.id for s in file["steps"]}:
            raise DecisionRefused(NO_SUCH_STEP)
        async with node.db.write() as db:
            await decide(db, node.settings.keys_dir, app.node_id, decision)
            step = f"{app.node_id}:{decision.step_id}"
            at = stamp(decision.at)
            await record(
                db, node.settings.keys_dir, officer, "decide", "step", step, at, decision.outcome
            )
        return RedirectResponse(url, status_code=303)
    except DecisionRefused as exc:
        message = str(exc)
    file = await _load_file(request, officer)
    status = 409 if decision.step_id in _pending_steps(file) else 400
    return _file_page(request, officer, file, values, {"form": message}, status)


async def blob(request: Request) -> Response:
    """A photo or thumbnail read from the store, only for applications the officer may see."""
    officer = require(request, "officer")
    node_id, sha256 = request.path_params["node_id"], request.path_params["sha256"]
    if not SHA256.fullmatch(sha256):
        raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
    async with central_node(request).db.read() as db:
        blob_row = await queries.visible_blob(db, officer, node_id, sha256)
    if blob_row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
    if blob_row["content_type"] is None:  # its record, hence its upload, is not here yet
        raise HTTPException(status_code=404, detail=_("照片尚未上传到中心。"))
    try:
        stored = await run_in_threadpool(central_node(request).store.get, blob_key(node_id, sha256))
    except StoreUnavailable:
        raise HTTPException(
            status_code=503, detail=_("照片存储暂时无法访问，请稍后再试。")
        ) from None
    data = verified(stored, sha256)
    if data is None:
        raise HTTPException(status_code=404, detail=_("照片尚未上传到中心。"))
    await _audit_read(request, officer, "photo", f"{node_id}:{sha256}")
    return Response(
        data,
        media_type=blob_row["content_type"],
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


routes = [
    Route("/officer/", queue, methods=["GET"], name="officer:queue"),
    Route(
        "/officer/applications/{node_id}/{application_id}",
        application,
        methods=["GET"],
        name="officer:application",
    ),
    Route(
        "/officer/applications/{node_id}/{application_id}/decide",
        csrf.protected(decide_step),
        methods=["POST"],
        name="officer:decide",
    ),
    Route("/officer/blobs/{node_id}/{sha256}", blob, methods=["GET"], name="officer:blob"),
]
