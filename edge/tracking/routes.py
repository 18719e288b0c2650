"""/track and /track/{code}: status and steps for anyone with the code; more with the phone,
and there the applicant's rating once the application has closed."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.applications import queries, states
from edge.applications.context import working_days_for
from edge.applications.records import Application, Step
from edge.applications.tracking_code import InvalidTrackingCode, format_code, parse_code
from edge.kernel import csrf, transport
from edge.kernel.auth import lockout, throttle
from edge.kernel.auth.throttle import Attempt
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.ratings import queries as rating_queries
from edge.ratings.access import channel_of
from edge.ratings.forms import parse_rating
from edge.ratings.levels import INDICATORS, LEVELS
from edge.ratings.recording import RatingClosed, record, state


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


async def _check_digits(
    request: Request, app: Application, steps: list[Step], digits: str
) -> tuple[Response | None, Attempt]:
    """(None when `digits` are the applicant's phone's last four, else the refusal to answer;
    the attempt, whose device cookie the answer keeps).
    Wrong digits count per code and source address and per address across codes, so a third
    party who knows the code cannot lock the applicant out; the applicant's device, once in,
    is limited on its own."""
    node = edge_node(request)
    key = f"track:{app.tracking_code}"
    attempt = await throttle.attempt(node, request, key, per_source_key=True)
    turn = await throttle.wait_turn(node, attempt)
    now = node.clock()
    if turn.check is None:
        status, message = throttle.refusal(turn.locked_until, now)
        refused = _page(request, app, steps, None, message, status)
        return throttle.refused(refused, turn.locked_until, now), attempt
    if not hmac.compare_digest(digits.encode(), app.applicant_phone[-4:].encode()):
        async with node.db.write() as db:
            until = await throttle.failed(node, db, turn.check, attempt, now)
        if until:
            locked = _page(request, app, steps, None, lockout.wait_message(until, now), 429)
            return throttle.refused(locked, until, now), attempt
        return _page(request, app, steps, None, _("手机号码后四位不对。"), 400), attempt
    async with node.db.write() as db:
        await throttle.succeeded(db, turn.check, attempt, now)
    return None, attempt


async def _details_page(
    request: Request,
    app: Application,
    steps: list[Step],
    attempt: Attempt,
    digits: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    node = edge_node(request)
    async with node.db.read() as db:
        invitation = await rating_queries.latest_for_application(db, app.id)
        details = {
            "supplements": await queries.supplements(db, app.id),
            "seals": await queries.seals_of(db, app.id),
            "last4": digits,
            "rating": invitation,
            "rating_state": None if invitation is None else state(invitation, node.clock()),
            "values": values if values is not None else {},
            "errors": errors or {},
            "levels": LEVELS,
            "indicators": INDICATORS,
        }
    response = _page(request, app, steps, details, status=status)
    return throttle.keep_device(response, attempt, secure=transport.secure(request.scope))


async def track_details(request: Request) -> Response:
    """Reasons, materials to bring, certificates and the rating form, after the phone's last
    four digits."""
    app, steps = await _load(request)
    digits = str((await request.form()).get("last4", "")).strip()
    refused, attempt = await _check_digits(request, app, steps, digits)
    if refused is not None:
        return refused
    return await _details_page(request, app, steps, attempt, digits)


async def track_rate(request: Request) -> Response:
    """好差评 from the tracking page: the digits again, then the rating (or its change within
    24 h) of the application's newest invitation; answered after commit."""
    app, steps = await _load(request)
    form = await request.form()
    digits = str(form.get("last4", "")).strip()
    refused, attempt = await _check_digits(request, app, steps, digits)
    if refused is not None:
        return refused
    given, values, errors = parse_rating(form)
    node = edge_node(request)
    if given is not None:
        try:
            async with node.db.write() as db:
                invitation = await rating_queries.latest_for_application(db, app.id)
                if invitation is None:
                    raise HTTPException(status_code=404, detail=_("这件申请还没有办结。"))
                days = await working_days_for(request, db)
                channel = channel_of(request, "tracking")
                await record(db, invitation, given, channel, node.clock(), days)
            return await _details_page(request, app, steps, attempt, digits, {}, {})
        except RatingClosed as exc:
            errors = {"level": str(exc)}
    return await _details_page(request, app, steps, attempt, digits, values, errors, status=400)


routes = [
    Route("/track", track_form, methods=["GET"], name="tracking:form"),
    Route("/track/{code}", track_status, methods=["GET"], name="tracking:status"),
    Route(
        "/track/{code}", csrf.protected(track_details), methods=["POST"], name="tracking:details"
    ),
    Route("/track/{code}/rate", csrf.protected(track_rate), methods=["POST"], name="tracking:rate"),
]
