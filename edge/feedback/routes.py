"""/feedback/...: the public list and items, raising an item without an account, the author's
page by tracking code (rate, reopen once), and the photo; staff pages are in staff.py."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import aiosqlite
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.applications.tracking_code import InvalidTrackingCode, format_code, parse_code
from edge.blobs.images import PhotoRejected
from edge.feedback import forms, lifecycle, public, queries, staff, states
from edge.feedback.routing import routing
from edge.intake.uploads import MAX_UPLOAD, record_blobs, store_photo
from edge.jurisdictions import queries as places
from edge.kernel import csrf
from edge.kernel.auth import lockout, sources, throttle
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_phone
from edge.kernel.request_limits import allow_body
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import EdgeNode, edge_node
from edge.ratings import levels
from edge.workdays.working_days import WorkingDays, load_working_days

MAX_FORM_BYTES = MAX_UPLOAD + 64_000
PER_SOURCE_PER_HOUR = 10
PER_PHONE_PER_DAY = 5


async def working_days(node: EdgeNode, db: aiosqlite.Connection) -> WorkingDays:
    """Today's working days at this node."""
    settings = node.settings
    return await load_working_days(
        db, node.clock(), settings.web.timezone, settings.warning_working_days
    )


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 10_000 else 1


def shared(extra: dict[str, Any]) -> dict[str, Any]:
    """What every feedback template may use."""
    return {
        "kinds": routing().kinds,
        "categories": routing().categories,
        "kind_of": routing().kind,
        "category_of": routing().category,
        "state_label": states.label,
        "states": states.STATES,
        "rating_label": levels.label,
        "ratings": levels.LEVELS,
        "author_of": public.author,
        "text_of": public.text,
        "answer_of": public.answer,
        "photo_shown": public.photo_shown,
        **extra,
    }


async def listing(request: Request) -> Response:
    """Public items, newest first, filtered by village, kind and state, 20 a page."""
    node = edge_node(request)
    query = request.query_params
    village, kind, state = (query.get(k, "")[:20] for k in ("village", "kind", "state"))
    page = _page_number(query.get("page", "1"))
    async with node.db.read() as db:
        villages = await places.villages_of(db, node.settings.township_code)
        rows, total = await queries.public_page(db, village, kind, state, page)
    pages = max(1, (total + queries.PAGE_SIZE - 1) // queries.PAGE_SIZE)
    return render(
        request,
        "edge/feedback/list.html",
        shared(
            {
                "rows": rows,
                "total": total,
                "page": page,
                "pages": pages,
                "villages": villages,
                "filters": {"village": village, "kind": kind, "state": state},
            }
        ),
        fragment="edge/feedback/_results.html",
    )


async def _villages(node: EdgeNode) -> list[Any]:
    async with node.db.read() as db:
        return await places.villages_of(db, node.settings.township_code)


def _form_page(
    request: Request,
    villages: list[Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    action: str = "feedback:create",
) -> Response:
    return render(
        request,
        "edge/feedback/new.html",
        shared({"villages": villages, "values": values, "errors": errors, "action": action}),
        status_code=status,
    )


def blank_values(request: Request) -> dict[str, Any]:
    """The form's first values: a village, a topic (elections link here with topic=election)."""
    query = request.query_params
    topic = query.get("topic", "")
    return {
        "village": query.get("village", "")[:12],
        "kind": "complaint" if topic == "election" else "",
        "category": topic if routing().category(topic) else "",
        "ref": query.get("ref", "")[:40],
        "body": "",
        "name": "",
        "phone": "",
        "private": False,
    }


async def new_form(request: Request) -> Response:
    """The form to raise an item: no account, no script needed."""
    return _form_page(request, await _villages(edge_node(request)), blank_values(request), {})


def submit_key(form: FormData, values: dict[str, Any], source: str, day: str) -> str:
    """The submission's key: the client's idempotency key if it sent one (the agent app, on any
    later day), else the content with the address and the day, so a resent form gives the first
    item back."""
    sent = str(form.get("idempotency_key", ""))
    if sent:  # the app's key stands alone: a form kept offline may be sent days later
        return hashlib.sha256(f"{source}|key|{sent}".encode()).hexdigest()
    content = "|".join(str(values[k]) for k in ("village", "kind", "category", "body", "phone"))
    return hashlib.sha256(f"{source}|{day}|{content}".encode()).hexdigest()


def body_with_ref(values: dict[str, Any]) -> str:
    """The text, prefixed by what it is about when a page linked here (an election notice)."""
    ref = str(values.get("ref", ""))
    return f"[{values['category']}:{ref}] {values['body']}" if ref else str(values["body"])


async def limited(node: EdgeNode, db: aiosqlite.Connection, source: str, phone: str) -> bool:
    """Whether this address or phone has raised too many items lately (anti-spam)."""
    now = node.clock()
    hour_ago, day_ago = stamp(now - timedelta(hours=1)), stamp(now - timedelta(days=1))
    if await queries.recent_from_source(db, source, hour_ago) >= PER_SOURCE_PER_HOUR:
        return True
    return bool(phone) and await queries.recent_from_phone(db, phone, day_ago) >= PER_PHONE_PER_DAY


async def photo_of(node: EdgeNode, form: FormData) -> tuple[str | None, Any, str]:
    """(sha256, upload, error) of the optional photo: re-encoded, EXIF dropped."""
    value = form.get("photo")
    raw = await value.read(MAX_UPLOAD + 1) if isinstance(value, UploadFile) else b""
    if not raw:
        return None, None, ""
    try:
        upload = await store_photo(node.blobs, raw, "feedback", "photo")
    except PhotoRejected as exc:
        return None, None, str(exc)
    return upload.sha256, upload, ""


@allow_body(MAX_FORM_BYTES)
async def create(request: Request) -> Response:
    """Raise an item: checked, limited per address and phone, stored once per submission,
    answered with the author's page (tracking code) after commit."""
    node = edge_node(request)
    form = await request.form()
    villages = await _villages(node)
    values, errors = forms.parse_new(form, {v["code"] for v in villages})
    values["ref"] = str(form.get("ref", ""))[:40]
    sha, upload, photo_error = await photo_of(node, form)
    if photo_error:
        errors["photo"] = photo_error
    if errors:
        return _form_page(request, villages, values, errors, 400)
    created = await raise_from_form(request, node, values, "web", sha, upload, None)
    if isinstance(created, Response):
        return created
    return RedirectResponse(path_for(request, "feedback:mine", code=created[1]), status_code=303)


async def raise_from_form(
    request: Request,
    node: EdgeNode,
    values: dict[str, Any],
    channel: str,
    sha: str | None,
    upload: Any,
    agent_id: str | None,
) -> tuple[str, str] | Response:
    """Store the item of a checked form once per submission; (its id, its tracking code), or
    the refusal page when the address or phone is over its limit."""
    form = await request.form()
    source = sources.address(request, node.settings.web.client_address_header)
    now = node.clock()
    async with node.db.write() as db:
        days = await working_days(node, db)
        key = submit_key(form, values, agent_id or source, days.today.isoformat())
        earlier = await queries.submitted(db, key)
        if earlier is not None:
            return str(earlier["id"]), str(earlier["tracking_code"])
        if agent_id is None and await limited(node, db, source, values["phone"]):
            message = _("提交太频繁了，请一小时后再试，或到村便民服务站找代办员。")
            response = render(
                request,
                "edge/errors/error.html",
                {"message": message, "status": 429},
                status_code=429,
            )
            response.headers["Retry-After"] = "3600"
            return response
        if upload is not None:
            await record_blobs(db, node.blobs, upload, stamp(now))
        new = lifecycle.NewItem(
            village_code=values["village"],
            kind=values["kind"],
            category=values["category"],
            channel=channel,
            body=body_with_ref(values),
            author_name=values["name"],
            author_phone=values["phone"],
            private=values["private"],
            photo_sha256=sha,
            agent_id=agent_id,
        )
        raised = await lifecycle.raise_item(db, new, now, days)
        await queries.remember_submission(db, key, raised.id, agent_id or source, stamp(now))
    return raised.id, raised.code


async def item(request: Request) -> Response:
    """One public item with its history and the official answer; a private one is not here."""
    node = edge_node(request)
    async with node.db.read() as db:
        row = await queries.item(db, request.path_params["item_id"])
        if row is None or row["private"]:
            raise HTTPException(status_code=404, detail=_("没有找到这条留言，或作者要求不公开。"))
        history = await queries.events(db, row["id"])
    return render(request, "edge/feedback/item.html", shared({"row": row, "history": history}))


async def photo(request: Request) -> Response:
    """The photo of a public item, unless staff hid it."""
    node = edge_node(request)
    async with node.db.read() as db:
        row = await queries.item(db, request.path_params["item_id"])
    if row is None or row["private"] or not public.photo_shown(row):
        raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
    return Response(
        node.blobs.read(row["photo_sha256"]),
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


async def track_form(request: Request) -> Response:
    """Ask for a feedback tracking code."""
    raw = request.query_params.get("code", "")
    if not raw:
        return render(request, "edge/feedback/track.html", {"error": "", "raw": ""})
    try:
        code = parse_code(raw)
    except InvalidTrackingCode as exc:
        return render(
            request,
            "edge/feedback/track.html",
            {"error": str(exc), "raw": raw[:20]},
            status_code=400,
        )
    return RedirectResponse(path_for(request, "feedback:mine", code=code), status_code=303)


async def _by_code(request: Request) -> aiosqlite.Row:
    try:
        code = parse_code(request.path_params["code"])
    except InvalidTrackingCode as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    async with edge_node(request).db.read() as db:
        row = await queries.by_code(db, code)
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这个查询码对应的留言，请核对。"))
    return row


async def _mine_page(
    request: Request, row: aiosqlite.Row, error: str = "", status: int = 200
) -> Response:
    async with edge_node(request).db.read() as db:
        history = await queries.events(db, row["id"])
    response = render(
        request,
        "edge/feedback/mine.html",
        shared(
            {
                "row": row,
                "history": history,
                "code": format_code(row["tracking_code"]),
                "phone": mask_phone(row["author_phone"]) if row["author_phone"] else "",
                "error": error,
            }
        ),
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def mine(request: Request) -> Response:
    """The author's page: their item (private or not), its state, the answer, rate, reopen."""
    return await _mine_page(request, await _by_code(request))


async def _proved(request: Request, row: aiosqlite.Row, form: FormData) -> Response | None:
    """None when the author proved it (the phone's last four digits, if they left a phone),
    else the page refusing it; wrong digits are throttled per code and address."""
    if not row["author_phone"]:
        return None
    node = edge_node(request)
    digits = str(form.get("last4", "")).strip()
    attempt = await throttle.attempt(
        node, request, f"feedback:{row['tracking_code']}", per_source_key=True
    )
    turn = await throttle.wait_turn(node, attempt)
    now = node.clock()
    if turn.check is None:
        status, message = throttle.refusal(turn.locked_until, now)
        return throttle.refused(
            await _mine_page(request, row, message, status), turn.locked_until, now
        )
    if not hmac.compare_digest(digits.encode(), row["author_phone"][-4:].encode()):
        async with node.db.write() as db:
            until = await throttle.failed(node, db, turn.check, attempt, now)
        if until:
            page = await _mine_page(request, row, lockout.wait_message(until, now), 429)
            return throttle.refused(page, until, now)
        return await _mine_page(request, row, _("手机号码后四位不对。"), 400)
    async with node.db.write() as db:
        await throttle.succeeded(db, turn.check, attempt, now)
    return None


async def rate(request: Request) -> Response:
    """评价: the author rates the answer (five levels), once."""
    row = await _by_code(request)
    form = await request.form()
    refused = await _proved(request, row, form)
    if refused is not None:
        return refused
    level, error = forms.parse_rating(form)
    node = edge_node(request)
    if not error:
        try:
            async with node.db.write() as db:
                await lifecycle.rate(db, row["id"], level, node.clock())
        except lifecycle.Refused as exc:
            error = str(exc)
    if error:
        return await _mine_page(request, row, error, 400)
    return RedirectResponse(path_for(request, "feedback:mine", code=row["tracking_code"]), 303)


async def reopen(request: Request) -> Response:
    """Not resolved: the author asks once for the item to be handled again."""
    row = await _by_code(request)
    form = await request.form()
    refused = await _proved(request, row, form)
    if refused is not None:
        return refused
    reason, error = forms.parse_reopen(form)
    node = edge_node(request)
    if not error:
        try:
            async with node.db.write() as db:
                await lifecycle.reopen(
                    db, row["id"], reason, node.clock(), await working_days(node, db)
                )
        except lifecycle.Refused as exc:
            error = str(exc)
    if error:
        return await _mine_page(request, row, error, 400)
    return RedirectResponse(path_for(request, "feedback:mine", code=row["tracking_code"]), 303)


routes = [
    Route("/feedback", listing, methods=["GET"], name="feedback:list"),
    Route("/feedback/new", new_form, methods=["GET"], name="feedback:new"),
    Route("/feedback/new", csrf.protected(create), methods=["POST"], name="feedback:create"),
    Route("/feedback/track", track_form, methods=["GET"], name="feedback:track"),
    Route("/feedback/track/{code}", mine, methods=["GET"], name="feedback:mine"),
    Route(
        "/feedback/track/{code}/rate", csrf.protected(rate), methods=["POST"], name="feedback:rate"
    ),
    Route(
        "/feedback/track/{code}/reopen",
        csrf.protected(reopen),
        methods=["POST"],
        name="feedback:reopen",
    ),
    Route("/feedback/{item_id}", item, methods=["GET"], name="feedback:item"),
    Route("/feedback/{item_id}/photo", photo, methods=["GET"], name="feedback:photo"),
    *staff.routes,
]
