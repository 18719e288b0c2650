"""/agent/market and /staff/market: the village agent (or township staff) checks a seller's ID
and origin in person and posts listings for them; township staff review reports and hide or
restore listings with a reason. Every change is audited; posts carry an idempotency key."""

from __future__ import annotations

from typing import Any

import aiosqlite
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.agent_outbox import replies
from edge.agent_outbox.received import settled
from edge.audit.log import append as audit
from edge.intake.uploads import owned
from edge.jurisdictions import queries as places
from edge.jurisdictions.codes import contains, prefix_of
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.errors import wants_json
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_id_number, mask_name, mask_phone
from edge.kernel.request_limits import allow_body
from edge.kernel.templating import render
from edge.kernel.urls import path_for, public_url
from edge.market import photos, queries
from edge.market.categories import categories, units
from edge.market.display import helpers, place_names
from edge.market.forms import parse_listing, parse_seller
from edge.market.origin import seal_origin
from edge.market.routes import new_token, report_reasons, today_of
from edge.node import edge_node
from edge.sms.outbox import enqueue

DESK_ROLES = ("agent", "township_staff")
SELLER_LOCALE = "zh_Hans"


def _desk(request: Request) -> Account:
    return require(request, *DESK_ROLES)


async def _villages(db: aiosqlite.Connection, account: Account, township: str) -> list[Any]:
    """The villages this account may register sellers in: the agent's own, or every village
    of the township for its staff."""
    rows = await places.villages_of(db, township)
    return [v for v in rows if contains(account.jurisdiction_code, v["code"])]


def _key_or_400(form: Any) -> str:
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    return key


async def desk_home(request: Request) -> Response:
    """The sellers of my village (or township) and their live listings."""
    account = _desk(request)
    async with edge_node(request).db.read() as db:
        sellers = await queries.sellers_in(db, prefix_of(account.jurisdiction_code))
        names = await place_names(db, [s["village_code"] for s in sellers])
    return render(
        request,
        "edge/market/desk.html",
        {"sellers": sellers, "names": names, "mask_phone": mask_phone},
    )


async def _seller_page(
    request: Request, account: Account, values: dict[str, Any], errors: dict[str, str], status: int
) -> Response:
    node = edge_node(request)
    async with node.db.read() as db:
        villages = await _villages(db, account, node.settings.township_code)
    return render(
        request,
        "edge/market/seller_form.html",
        {"values": values, "errors": errors, "villages": villages},
        status_code=status,
    )


async def seller_form(request: Request) -> Response:
    """The real-name check: ID number (GB 11643), mobile, village, the two confirmations."""
    account = _desk(request)
    values = {"key": str(ULID()), "kind": "person", "village_code": account.jurisdiction_code}
    return await _seller_page(request, account, values, {}, 200)


async def save_seller(request: Request) -> Response:
    """Record the seller the agent checked in person; audited; once per key."""
    account = _desk(request)
    node = edge_node(request)
    form = await request.form()
    key = _key_or_400(form)
    async with node.db.read() as db:
        villages = [v["code"] for v in await _villages(db, account, node.settings.township_code)]
        done = await idempotency.earlier_result(db, key, account.id)
    if done:
        return RedirectResponse(path_for(request, "market:seller", seller_id=done.id), 303)
    check, values, errors = parse_seller(form, today_of(node), villages)
    values["key"] = key
    if check is None:
        return await _seller_page(request, account, values, errors, 400)
    now = stamp(node.clock())
    digest = idempotency.request_hash({"seller": check.id_number, "phone": check.phone})
    try:
        async with node.db.write() as db:
            done = await idempotency.replay(db, key, account.id, digest)
            if done is None:
                seller_id = await queries.save_seller(
                    db, check, account.id, now, prefix_of(account.jurisdiction_code)
                )
                if seller_id is None:
                    taken = _("这位卖家已在别的村登记，请找所在村的代办员办理。")
                    return await _seller_page(request, account, values, {"id_number": taken}, 409)
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action="market_seller_checked",
                    object_type="market_seller",
                    object_id=seller_id,
                    result=f"id:{mask_id_number(check.id_number)}",
                    at=now,
                )
                done = idempotency.Result("market_seller", seller_id)
                await idempotency.remember(db, key, account.id, digest, done, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse(path_for(request, "market:seller", seller_id=done.id), 303)


async def _own_seller(request: Request, account: Account) -> aiosqlite.Row:
    async with edge_node(request).db.read() as db:
        row = await queries.seller(db, request.path_params["seller_id"])
    if row is None or not contains(account.jurisdiction_code, row["village_code"]):
        raise HTTPException(status_code=404, detail=_("没有找到这位卖家。"))
    return row


async def seller_page(request: Request) -> Response:
    """A seller (ID masked) and their listings; post a new one."""
    account = _desk(request)
    seller = await _own_seller(request, account)
    async with edge_node(request).db.read() as db:
        listings = await queries.listings_of_seller(db, seller["id"])
        names = await place_names(db, [seller["village_code"]])
    return render(
        request,
        "edge/market/seller.html",
        {
            "seller": seller,
            "listings": listings,
            "names": names,
            "label": queries.seller_label(seller["kind"], seller["name"], seller["cooperative"]),
            "id_masked": mask_id_number(seller["id_number"]),
            "phone_masked": mask_phone(seller["phone"]),
            **helpers(),
        },
    )


def _listing_form(
    request: Request,
    seller: aiosqlite.Row,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "edge/market/listing_form.html",
        {
            "seller": seller,
            "seller_masked": mask_name(seller["name"]),  # as the agent app's outbox lists it
            "values": values,
            "errors": errors,
            "categories": categories(),
            "units": units(),
        },
        status_code=status,
    )


async def listing_form(request: Request) -> Response:
    """A new 供 or 求 for a checked seller."""
    account = _desk(request)
    seller = await _own_seller(request, account)
    if seller["suspended_at"]:
        raise HTTPException(status_code=403, detail=_("这位卖家因多次违规已被暂停发布。"))
    return _listing_form(request, seller, {"key": str(ULID()), "side": "supply"}, {})


@allow_body(photos.MAX_FORM_BYTES)
async def post_listing(request: Request) -> Response:
    """Publish the listing; the seller gets an SMS with the listing's management link (the only
    copy of its token); once per key, audited, answered after commit."""
    account = _desk(request)
    seller = await _own_seller(request, account)
    node = edge_node(request)
    form = await settled(node, account.id, await request.form())  # photos sent ahead, re-encoded
    key = _key_or_400(form)
    async with node.db.read() as db:
        done = await idempotency.earlier_result(db, key, account.id)
        staged = await owned(db, account.id, form)
    if done:
        return _posted(request, done.id)
    if seller["suspended_at"]:
        suspended = _("这位卖家因多次违规已被暂停发布。")
        if wants_json(request):  # the outbox shows why and keeps the listing
            return replies.sent_back({}, suspended)
        raise HTTPException(status_code=403, detail=suspended)
    draft, values, errors = parse_listing(form, today_of(node))
    values["key"] = key
    uploads, problem = await photos.from_form(node.blobs, form, staged)
    if problem:
        errors["photos"] = problem
    if (draft is None or problem) and wants_json(request):
        return replies.sent_back(errors)
    if draft is None or problem:
        if uploads:
            errors.setdefault("photos", _("请重新选择照片。"))
        return _listing_form(request, seller, values, errors, 400)
    token, token_hash = new_token()
    now = node.clock()
    shas = [u.sha256 for u in uploads]
    digest = idempotency.request_hash({"seller": seller["id"], **values, "photos": shas})
    try:
        async with node.db.write() as db:
            done = await idempotency.replay(db, key, account.id, digest)
            if done is None:
                listing_id = await queries.create_listing(
                    db, seller, draft, by=account.id, token_hash=token_hash, now=stamp(now)
                )
                await photos.attach(db, node.blobs, listing_id, uploads, stamp(now))
                await seal_origin(db, node.settings.keys_dir, listing_id, stamp(now))
                await enqueue(
                    db,
                    phone=seller["phone"],
                    template="market_posted",
                    params={
                        "item": draft.product,
                        "url": public_url(request, "market:manage", token=token),
                    },
                    locale=SELLER_LOCALE,
                    now=now,
                    dedupe_key=f"market-posted:{listing_id}",
                )
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action="market_listing_posted",
                    object_type="market_listing",
                    object_id=listing_id,
                    result=f"seller:{seller['id']}",
                    at=stamp(now),
                )
                done = idempotency.Result("market_listing", listing_id)
                await idempotency.remember(db, key, account.id, digest, done, stamp(now))
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await run_in_threadpool(node.wake_worker)
    return _posted(request, done.id)


def _posted(request: Request, listing_id: str) -> Response:
    """After commit: the posted listing's page (for the outbox, where it is)."""
    shown = path_for(request, "market:posted", listing_id=listing_id)
    if wants_json(request):
        return replies.accepted(shown)
    return RedirectResponse(shown, 303)


async def posted(request: Request) -> Response:
    """The listing just posted, with its public page and printable origin card."""
    account = _desk(request)
    async with edge_node(request).db.read() as db:
        row = await queries.listing(db, request.path_params["listing_id"])
    if row is None or not contains(account.jurisdiction_code, row["village_code"]):
        raise HTTPException(status_code=404, detail=_("没有找到这条供求信息，可能已删除。"))
    return render(request, "edge/market/posted.html", {"row": row})


# --- moderation ------------------------------------------------------------------------------


def _staff(request: Request) -> Account:
    return require(request, "township_staff")


async def reports_page(request: Request) -> Response:
    """Listings with open reports (most reported first) and hidden ones."""
    account = _staff(request)
    async with edge_node(request).db.read() as db:
        rows = await queries.reported_listings(db, prefix_of(account.jurisdiction_code))
        names = await place_names(db, [r["village_code"] for r in rows])
    return render(
        request,
        "edge/market/reports.html",
        {"rows": rows, "names": names, "reasons": report_reasons()},
    )


async def _moderated(request: Request, account: Account) -> aiosqlite.Row:
    async with edge_node(request).db.read() as db:
        row = await queries.listing(db, request.path_params["listing_id"])
    if row is None or not contains(account.jurisdiction_code, row["village_code"]):
        raise HTTPException(status_code=404, detail=_("没有找到这条供求信息，可能已删除。"))
    return row


async def _review_page(
    request: Request, row: aiosqlite.Row, error: str = "", status: int = 200
) -> Response:
    async with edge_node(request).db.read() as db:
        reports = await queries.reports_of(db, row["id"])
        names = await place_names(db, [row["village_code"]])
    return render(
        request,
        "edge/market/review.html",
        {
            "row": row,
            "reports": reports,
            "names": names,
            "reasons": report_reasons(),
            "error": error,
            "asked": 0,
            "key": str(ULID()),
            **helpers(),
        },
        status_code=status,
    )


async def review_page(request: Request) -> Response:
    """A reported listing, its reports, and the hide / keep / restore form."""
    account = _staff(request)
    return await _review_page(request, await _moderated(request, account))


async def moderate(request: Request) -> Response:
    """Hide (reason required; the seller is suspended at the limit), keep, or restore; the
    reports are closed and the action, with its reason, is audited."""
    account = _staff(request)
    row = await _moderated(request, account)
    node = edge_node(request)
    form = await request.form()
    key = _key_or_400(form)
    action = str(form.get("action", ""))
    reason = " ".join(str(form.get("reason", "")).split())[:200]
    if action not in ("hide", "keep", "restore"):
        return await _review_page(request, row, _("请选择处理方式。"), 400)
    if action in ("hide", "restore") and not reason:
        return await _review_page(request, row, _("隐藏或恢复都要写明理由。"), 400)
    now = stamp(node.clock())
    digest = idempotency.request_hash({"listing": row["id"], "action": action, "reason": reason})
    suspended = False
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is None:
                if action == "hide" and row["state"] != "hidden":
                    suspended = await queries.hide(
                        db, row["id"], reason, node.settings.market_suspend_after, now
                    )
                elif action == "restore":
                    await queries.restore(db, row["id"], now)
                await queries.resolve_reports(
                    db, row["id"], "hidden" if action == "hide" else "kept", account.id, now
                )
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action=f"market_{action}",
                    object_type="market_listing",
                    object_id=row["id"],
                    result=("suspended:" if suspended else "") + reason[:120],
                    at=now,
                )
                result = idempotency.Result("market_listing", row["id"])
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse(path_for(request, "market:reports"), 303)


routes = [
    Route("/agent/market", desk_home, methods=["GET"], name="market:desk"),
    Route("/agent/market/sellers/new", seller_form, methods=["GET"], name="market:seller_form"),
    Route(
        "/agent/market/sellers/new",
        csrf.protected(save_seller),
        methods=["POST"],
        name="market:seller_save",
    ),
    Route("/agent/market/sellers/{seller_id}", seller_page, methods=["GET"], name="market:seller"),
    Route(
        "/agent/market/sellers/{seller_id}/listings/new",
        listing_form,
        methods=["GET"],
        name="market:listing_form",
    ),
    Route(
        "/agent/market/sellers/{seller_id}/listings/new",
        csrf.protected(post_listing),
        methods=["POST"],
        name="market:listing_post",
    ),
    Route("/agent/market/listings/{listing_id}", posted, methods=["GET"], name="market:posted"),
    Route("/staff/market", reports_page, methods=["GET"], name="market:reports"),
    Route(
        "/staff/market/listings/{listing_id}", review_page, methods=["GET"], name="market:review"
    ),
    Route(
        "/staff/market/listings/{listing_id}",
        csrf.protected(moderate),
        methods=["POST"],
        name="market:moderate",
    ),
]
