"""/track and /track/{code}: status and steps for anyone with the code; more with the phone."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.applications import queries, states
from edge.applications.records import Application, Step
from edge.applications.tracking_code import InvalidTrackingCode, format_code, parse_code
from edge.kernel import csrf
from edge.kernel.auth import lockout, throttle
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node


async def track_form(request: Request) -> Response:
    """Ask for the code; a submitted code goes to its page, a typo is caught here."""
    raw = request.query_params.get("code", "")
    if not raw:
        return render(request, "edge/tracking/index.html", {"error": "", "raw": ""})
    try:
        code = parse_code(raw)
    except InvalidTrackingCode as exc:
        return render(
            request,
            "edge/tracking/index.html",
            {"error": str(exc), "raw": raw[:20]},
            status_code=400,
        )
    return RedirectResponse(path_for(request, "tracking:status", code=code), status_code=303)


async def _load(request: Request) -> tuple[Application, list[Step]]:
    try:
        code = parse_code(request.path_params["code"])
    except InvalidTrackingCode as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    async with edge_node(request).db.read() as db:
        app = await queries.by_tracking_code(db, code)
        if app is None:
            raise HTTPException(status_code=404, detail=_("没有找到这个查询码对应的申请，请核对。"))
        return app, await queries.steps(db, app.id)


def _page(
    request: Request,
    app: Application,
    steps: list[Step],
    details: dict[str, Any] | None,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "edge/tracking/status.html",
        {
            "app": app,
            "steps": steps,
            "code": format_code(app.tracking_code),
            "applicant": mask_name(app.applicant_name),
            "status_label": states.label,
            "details": details,
            "error": error,
            "item": app.item,
        },
        status_code=status,
    )


async def track_status(request: Request) -> Response:
    """Status and steps; the applicant is masked."""
    app, steps = await _load(request)
    return _page(request, app, steps, None)


async def track_details(request: Request) -> Response:
    """Reasons, materials to bring and certificates, after the phone's last four digits. Wrong
    digits count per code and source address and per address across codes, so a third party
    who knows the code cannot lock the applicant out; the applicant's device, once in, is
    limited on its own."""
    app, steps = await _load(request)
    node = edge_node(request)
    digits = str((await request.form()).get("last4", "")).strip()
    key = f"track:{app.tracking_code}"
    attempt = await throttle.attempt(node, request, key, per_source_key=True)
    turn = await throttle.wait_turn(node, attempt)
    now = node.clock()
    if turn.check is None:
        status, message = throttle.refusal(turn.locked_until, now)
        refused = _page(request, app, steps, None, message, status)
        return throttle.refused(refused, turn.locked_until, now)
    if not hmac.compare_digest(digits.encode(), app.applicant_phone[-4:].encode()):
        async with node.db.write() as db:
            until = await throttle.failed(node, db, turn.check, attempt, now)
        if until:
            locked = _page(request, app, steps, None, lockout.wait_message(until, now), 429)
            return throttle.refused(locked, until, now)
        return _page(request, app, steps, None, _("手机号码后四位不对。"), 400)
    async with node.db.write() as db:
        await throttle.succeeded(db, turn.check, attempt, now)
    async with node.db.read() as db:
        details = {
            "supplements": await queries.supplements(db, app.id),
            "seals": await queries.seals_of(db, app.id),
        }
    response = _page(request, app, steps, details)
    return throttle.keep_device(response, attempt, secure=node.settings.web.cookie_secure)


routes = [
    Route("/track", track_form, methods=["GET"], name="tracking:form"),
    Route("/track/{code}", track_status, methods=["GET"], name="tracking:status"),
    Route(
        "/track/{code}", csrf.protected(track_details), methods=["POST"], name="tracking:details"
    ),
]
