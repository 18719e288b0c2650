"""/market: the township's listings for anyone (search, a listing, contact the seller, report
it, its printable origin card) and the seller's management link from their SMS."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import segno
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from ulid import ULID

from edge.audit.log import append as audit
from edge.jurisdictions import queries as places
from edge.kernel import csrf
from edge.kernel.auth.sources import address
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for, public_url
from edge.market import contact, photos, queries
from edge.market.categories import categories, units
from edge.market.display import helpers, place_names
from edge.market.forms import (
    DEFAULT_DAYS,
    parse_contact,
    parse_filters,
    parse_report,
    price_fen,
)
from edge.market.sms_reply import renewed_until
from edge.node import EdgeNode, edge_node
from edge.workdays.local import local_today

TOKEN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed again
TOKEN_LENGTH = 12  # 31^12 ≈ 2^59: not guessable by trying, short enough for one SMS
REPORTS_PER_ADDRESS_PER_DAY = 20
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def new_token() -> tuple[str, str]:
    """(token, its sha256): the token goes out once by SMS, only the hash is kept."""
    token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """What the database keeps of a management token."""
    return hashlib.sha256(token.upper().encode()).hexdigest()


def today_of(node: EdgeNode) -> date:
    """Today in the node's time zone."""
    return local_today(node.clock(), node.settings.web.timezone)


def report_reasons() -> dict[str, str]:
    """Report reasons and their labels."""
    return {
        "spam": _("广告或重复刷屏"),
        "fraud": _("疑似诈骗"),
        "prohibited": _("违禁物品（野生动物、农药、假种子等）"),
        "wrong_category": _("类别不对"),
        "duplicate": _("重复发布"),
    }


def page_query(request: Request) -> Callable[[int], str]:
    """The current search's query string with another page number."""

    def query(page: int) -> str:
        return urlencode({**request.query_params, "page": str(page)})

    return query


async def search_page(request: Request) -> Response:
    """The township's live listings: words, category, village, price, 供/求, a day; newest or
    nearest first; the results refresh alone under htmx."""
    node = edge_node(request)
    filters, errors = parse_filters(request.query_params)
    async with node.db.read() as db:
        rows, more = await queries.search(db, filters, today_of(node))
        villages = await places.villages_of(db, node.settings.township_code)
        names = await place_names(db, [r["village_code"] for r in rows])
    return render(
        request,
        "edge/market/search.html",
        {
            "filters": filters,
            "errors": errors,
            "rows": rows,
            "more": more,
            "names": names,
            "villages": villages,
            "categories": categories(),
            "args": dict(request.query_params),
            "listing_url": lambda r: path_for(request, "market:listing", listing_id=r["id"]),
            "page_query": page_query(request),
            "show_township": False,
            **helpers(),
        },
        fragment="edge/market/_results.html",
    )


async def _listing_or_404(request: Request) -> Any:
    listing_id = request.path_params["listing_id"]
    async with edge_node(request).db.read() as db:
        row = await queries.listing(db, listing_id) if len(listing_id) == 26 else None
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这条供求信息，可能已删除。"))
    return row


async def _listing_page(
    request: Request,
    row: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    node = edge_node(request)
    since = stamp(node.clock() - timedelta(days=7))
    async with node.db.read() as db:
        asked = await queries.asked_since(db, row["id"], since)
        names = await place_names(db, [row["village_code"]])
        pictures = await photos.of_listing(db, row["id"])
    save_data = request.headers.get("save-data", "").lower() == "on"
    response = render(
        request,
        "edge/market/listing.html",
        {
            "row": row,
            "photos": pictures,
            "thumbs": request.query_params.get("photos") == "1" and not save_data,
            "save_data": save_data,
            "names": names,
            "asked": asked,
            "open": contact.contactable(row, today_of(node)),
            "expired": row["available_until"] < today_of(node).isoformat(),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "reasons": report_reasons(),
            "contact_url": path_for(request, "market:contact", listing_id=row["id"]),
            "report_url": path_for(request, "market:report", listing_id=row["id"]),
            "card_url": path_for(request, "market:card", listing_id=row["id"]),
            **helpers(),
        },
        status_code=status,
    )
    response.headers["Vary"] = "Save-Data"
    return response


async def listing_page(request: Request) -> Response:
    """One listing: what, how much, where, until when; the seller masked; how many buyers
    asked this week; the contact form while it is live."""
    row = await _listing_or_404(request)
    if row["state"] == "hidden":
        raise HTTPException(status_code=404, detail=_("这条供求信息已被管理员隐藏。"))
    return await _listing_page(request, row)


async def send_contact(request: Request) -> Response:
    """A buyer leaves a number and a short message; the seller is texted both, once. Limited per
    buyer number and address a day; every request is in the audit log, number masked."""
    row = await _listing_or_404(request)
    node = edge_node(request)
    now = node.clock()
    phone, message, values, errors = parse_contact(await request.form())
    if not contact.contactable(row, today_of(node)) or row["state"] == "hidden":
        return await _listing_page(
            request, row, errors={"form": _("这条信息已下架或过期，不能再联系卖家。")}, status=409
        )
    if errors or phone is None:
        return await _listing_page(request, row, values=values, errors=errors, status=400)
    source = address(request, node.settings.web.client_address_header)
    dedupe = contact.dedupe_key(row["id"], phone, message, today_of(node))
    async with node.db.write() as db:
        counts = await queries.contact_counts(
            db, contact.buyer_key(phone), source, stamp(now - contact.WINDOW)
        )
        if contact.over_limit(*counts):
            await contact.record(db, node.settings.keys_dir, row, "refused:rate_limit", stamp(now))
            refused = True
        else:
            refused = False
            await contact.deliver(
                db,
                node.settings.keys_dir,
                row,
                contact_id=str(ULID()),
                buyer_phone=phone,
                message=message,
                source_key=source,
                origin="edge",
                dedupe=dedupe,
                now=now,
            )
    if refused:
        response = await _listing_page(
            request,
            row,
            values=values,
            errors={"form": _("今天联系得太多了，请明天再试，或直接到村便民服务点咨询。")},
            status=429,
        )
        response.headers["Retry-After"] = str(24 * 3600)
        return response
    node.wake_worker()
    return await _listing_page(request, row, notice=_("已发短信告诉卖家，卖家会打您留下的电话。"))


async def report_form(request: Request) -> Response:
    """Report a listing (spam, fraud, prohibited goods, wrong category, duplicate)."""
    row = await _listing_or_404(request)
    return _report_page(request, row, {}, "")


def _report_page(
    request: Request, row: Any, errors: dict[str, str], notice: str, status: int = 200
) -> Response:
    return render(
        request,
        "edge/market/report.html",
        {"row": row, "errors": errors, "notice": notice, "reasons": report_reasons()},
        status_code=status,
    )


async def send_report(request: Request) -> Response:
    """Record a report for township staff; a few a day per address."""
    row = await _listing_or_404(request)
    node = edge_node(request)
    reason, note, errors = parse_report(await request.form())
    if errors:
        return _report_page(request, row, errors, "", 400)
    source = address(request, node.settings.web.client_address_header)
    now = stamp(node.clock())
    async with node.db.write() as db:
        if await queries.reports_from(db, source, stamp(node.clock() - timedelta(days=1))) >= (
            REPORTS_PER_ADDRESS_PER_DAY
        ):
            too_many = True
        else:
            too_many = False
            await queries.add_report(db, row["id"], reason, note, source, now)
    if too_many:
        return _report_page(request, row, {"form": _("今天举报得太多了，请明天再试。")}, "", 429)
    return _report_page(request, row, {}, _("谢谢，乡镇工作人员会尽快核查。"))


async def origin_card(request: Request) -> Response:
    """The printable origin card: product, village, the agent's confirmation date, and a QR
    code of the listing's address (and of its seal, once sealed) for anyone to check."""
    row = await _listing_or_404(request)
    node = edge_node(request)
    link = public_url(request, "market:listing", listing_id=row["id"])
    seal_link = (
        public_url(request, "seals:verify", seal_id=row["origin_seal_id"])
        if row["origin_seal_id"]
        else ""
    )
    qr = segno.make(seal_link or link, error="m").svg_inline(scale=3, omitsize=False)
    async with node.db.read() as db:
        names = await place_names(db, [row["village_code"]])
    return render(
        request,
        "edge/market/card.html",
        {"row": row, "names": names, "qr": qr, "link": link, "seal_link": seal_link, **helpers()},
    )


async def photo(request: Request) -> Response:
    """A listing's photo or its thumbnail (≤ 15 KB), by position; never of a hidden listing."""
    row = await _listing_or_404(request)
    size = request.path_params.get("size")
    try:
        position = int(request.path_params["position"])
    except ValueError:
        position = 0
    async with edge_node(request).db.read() as db:
        found = await photos.one(db, row["id"], position)
    if found is None or row["state"] == "hidden" or size not in (None, "thumb"):
        raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
    thumb = size == "thumb"
    sha = found["thumb_sha256"] if thumb else found["sha256"]
    return Response(
        edge_node(request).blobs.read(sha),
        media_type=found["thumb_content_type"] if thumb else found["content_type"],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# --- the seller's management link ------------------------------------------------------------


async def _managed(request: Request) -> Any:
    token = request.path_params["token"]
    async with edge_node(request).db.read() as db:
        row = (
            await queries.listing_by_token(db, token_hash(token))
            if len(token) == TOKEN_LENGTH
            else None
        )
    if row is None:
        raise HTTPException(status_code=404, detail=_("这个管理链接不对或已失效，请问村代办员。"))
    return row


def _manage_page(request: Request, row: Any, notice: str = "", error: str = "") -> Response:
    node = edge_node(request)
    response = render(
        request,
        "edge/market/manage.html",
        {
            "row": row,
            "notice": notice,
            "error": error,
            "expired": row["available_until"] < today_of(node).isoformat(),
            "renew_days": DEFAULT_DAYS,
            "units": units(),
            **helpers(),
        },
        status_code=400 if error else 200,
    )
    response.headers.update(NO_STORE)
    return response


async def manage_page(request: Request) -> Response:
    """What the seller's SMS link opens: renew, set the price, sold out, withdraw, relist."""
    return _manage_page(request, await _managed(request))


async def manage(request: Request) -> Response:
    """One action by the holder of the link; each is idempotent (a repeat changes nothing) and
    in the audit log."""
    row = await _managed(request)
    node = edge_node(request)
    form = await request.form()
    action = str(form.get("action", ""))
    now = stamp(node.clock())
    if row["state"] == "hidden" or row["seller_suspended_at"]:
        return _manage_page(request, row, error=_("这条信息已被管理员隐藏，请问乡镇工作人员。"))
    fen: int | None = None
    if action == "price" and form.get("negotiable") != "yes":
        fen = price_fen(str(form.get("price", "")))
        if fen is None:
            return _manage_page(
                request, row, error=_("请填写单价（元，最多两位小数），或勾选面议。")
            )
    if action not in ("renew", "sold_out", "withdraw", "relist", "price"):
        return _manage_page(request, row, error=_("请选择要做的事。"))
    async with node.db.write() as db:
        if action == "renew":
            await queries.renew(
                db, row["id"], renewed_until(row["available_until"], today_of(node)), now
            )
        elif action == "price":
            await queries.set_price(db, row["id"], fen, now)
        else:
            state = {"sold_out": "sold_out", "withdraw": "withdrawn", "relist": "active"}[action]
            await queries.set_state(db, row["id"], state, now)
        await audit(
            db,
            node.settings.keys_dir,
            actor_id=None,
            role="seller",
            jurisdiction_code=row["village_code"],
            action=f"market_{action}",
            object_type="market_listing",
            object_id=row["id"],
            result="ok",
            at=now,
        )
        fresh = await queries.listing(db, row["id"])
    return _manage_page(request, fresh, notice=_("已保存。"))


routes = [
    Route("/market", search_page, methods=["GET"], name="market:search"),
    Route("/market/m/{token}", manage_page, methods=["GET"], name="market:manage"),
    Route("/market/m/{token}", csrf.protected(manage), methods=["POST"], name="market:manage_post"),
    Route("/market/{listing_id}", listing_page, methods=["GET"], name="market:listing"),
    Route(
        "/market/{listing_id}/contact",
        csrf.protected(send_contact),
        methods=["POST"],
        name="market:contact",
    ),
    Route("/market/{listing_id}/report", report_form, methods=["GET"], name="market:report"),
    Route(
        "/market/{listing_id}/report",
        csrf.protected(send_report),
        methods=["POST"],
        name="market:report_post",
    ),
    Route("/market/{listing_id}/card", origin_card, methods=["GET"], name="market:card"),
    Route("/market/{listing_id}/photos/{position}", photo, methods=["GET"], name="market:photo"),
    Route(
        "/market/{listing_id}/photos/{position}/{size}",
        photo,
        methods=["GET"],
        name="market:photo_size",
    ),
]
