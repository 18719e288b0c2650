"""/market at central: anyone searches every township's live listings (as ingested from the
edges) and asks a seller through their township's node: a command down the feed, whose edge
texts the seller once. Limited per buyer number and address, audited with the number masked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from ulid import ULID

from central.audit.record import record
from central.feed.queries import append
from central.market import queries
from central.node import central_node
from edge.kernel import csrf
from edge.kernel.auth.sources import address
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick
from edge.kernel.masking import mask_phone
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.market import contact
from edge.market.categories import categories
from edge.market.display import helpers, place_names
from edge.market.forms import parse_contact, parse_filters
from edge.workdays.local import local_today
from replication.feed.commands import MarketContact


def _page_query(request: Request) -> Callable[[int], str]:
    def query(page: int) -> str:
        return urlencode({**request.query_params, "page": str(page)})

    return query


async def search_page(request: Request) -> Response:
    """Every township's live listings: words, category, county or township, price, 供/求, a
    day; newest or nearest first; the results alone under htmx."""
    node = central_node(request)
    filters, errors = parse_filters(request.query_params)
    today = local_today(node.clock(), node.settings.web.timezone)
    async with node.db.read() as db:
        rows, more = await queries.search(db, filters, today)
        names = await place_names(db, [r["village_code"] for r in rows])
        places = await queries.places(db)
    return render(
        request,
        "central/market/search.html",
        {
            "filters": filters,
            "errors": errors,
            "rows": rows,
            "more": more,
            "names": names,
            "places": [(p["code"][: 6 if p["level"] == "county" else 9], p) for p in places],
            "categories": categories(),
            "args": dict(request.query_params),
            "listing_url": lambda r: path_for(
                request, "market:listing", node_id=r["node_id"], listing_id=r["id"]
            ),
            "page_query": _page_query(request),
            "show_township": True,
            "pick": pick,
            **helpers(),
        },
        fragment="edge/market/_results.html",
    )


async def _listing(request: Request) -> aiosqlite.Row:
    node_id = request.path_params["node_id"]
    listing_id = request.path_params["listing_id"]
    async with central_node(request).db.read() as db:
        row = await queries.listing(db, node_id, listing_id)
    if row is None or row["state"] == "hidden":
        raise HTTPException(status_code=404, detail=_("没有找到这条供求信息，可能已删除。"))
    return row


def _open(request: Request, row: aiosqlite.Row) -> bool:
    node = central_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    return row["state"] == "active" and row["available_until"] >= today.isoformat()


async def _page(
    request: Request,
    row: aiosqlite.Row,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    node = central_node(request)
    since = stamp(node.clock() - timedelta(days=7))
    async with node.db.read() as db:
        asked = await queries.asked_since(db, row["node_id"], row["id"], since)
        names = await place_names(db, [row["village_code"]])
    today = local_today(node.clock(), node.settings.web.timezone)
    return render(
        request,
        "central/market/listing.html",
        {
            "row": row,
            "names": names,
            "asked": asked,
            "open": _open(request, row),
            "expired": row["available_until"] < today.isoformat(),
            "values": values or {},
            "errors": errors or {},
            "notice": notice,
            "contact_url": path_for(
                request, "market:contact", node_id=row["node_id"], listing_id=row["id"]
            ),
            **helpers(),
        },
        status_code=status,
    )


async def listing_page(request: Request) -> Response:
    """One listing of any township; the seller masked as the edge wrote it."""
    return await _page(request, await _listing(request))


async def send_contact(request: Request) -> Response:
    """Carry a buyer's number and message to the seller's node (a feed command); the same
    request twice in a day is one; limited per number and address; audited, masked."""
    row = await _listing(request)
    node = central_node(request)
    phone, message, values, errors = parse_contact(await request.form())
    if not _open(request, row):
        problem = _("这条信息已下架或过期，不能再联系卖家。")
        return await _page(request, row, errors={"form": problem}, status=409)
    if errors or phone is None:
        return await _page(request, row, values=values, errors=errors, status=400)
    now = node.clock()
    today = local_today(now, node.settings.web.timezone)
    source = address(request, node.settings.web.client_address_header)
    key = contact.buyer_key(phone)
    dedupe = contact.dedupe_key(f"{row['node_id']}/{row['id']}", phone, message, today)
    async with node.db.write() as db:
        if await queries.seen_request(db, dedupe):
            refused = False
        elif contact.over_limit(
            *await queries.contact_counts(db, key, source, stamp(now - contact.WINDOW))
        ):
            refused = True
            await record(
                db,
                node.settings.keys_dir,
                None,
                "market_contact",
                "market_listing",
                row["id"],
                stamp(now),
                result="refused:rate_limit",
            )
        else:
            refused = False
            contact_id = str(ULID())
            command = MarketContact(contact_id, row["id"], phone, message)
            command_id = await append(db, row["node_id"], command, stamp(now))
            await queries.record_contact(
                db,
                contact_id=contact_id,
                node_id=row["node_id"],
                listing_id=row["id"],
                buyer_key=key,
                source_key=source,
                dedupe_key=dedupe,
                command_id=command_id,
                now=stamp(now),
            )
            await record(
                db,
                node.settings.keys_dir,
                None,
                "market_contact",
                "market_listing",
                row["id"],
                stamp(now),
                result=f"central:{mask_phone(phone)}",
            )
    if refused:
        problem = _("今天联系得太多了，请明天再试，或直接到村便民服务点咨询。")
        response = await _page(request, row, values=values, errors={"form": problem}, status=429)
        response.headers["Retry-After"] = str(24 * 3600)
        return response
    notice = _("已转给卖家所在的乡镇，卖家会收到短信，并打您留下的电话。")
    return await _page(request, row, notice=notice)


routes = [
    Route("/market", search_page, methods=["GET"], name="market:search"),
    Route("/market/{node_id}/{listing_id}", listing_page, methods=["GET"], name="market:listing"),
    Route(
        "/market/{node_id}/{listing_id}/contact",
        csrf.protected(send_contact),
        methods=["POST"],
        name="market:contact",
    ),
]
