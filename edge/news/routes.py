"""/news: newest posts for my village (city, township, village); one post, its photo only on
request (none under Save-Data); township staff and village agents post with one photo."""

from __future__ import annotations

from typing import Any

import aiosqlite
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.audit.log import append as audit
from edge.blobs.images import PhotoRejected
from edge.home.village import chosen_village
from edge.intake.uploads import MAX_FORM_BYTES, MAX_UPLOAD, record_blobs, store_photo
from edge.jurisdictions import queries as places
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.request_limits import allow_body
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.news import queries
from edge.news.forms import parse_news
from edge.node import edge_node

WRITERS = ("township_staff", "agent")


async def news_list(request: Request) -> Response:
    """Newest first: city, township and (when known) my village's posts."""
    node = edge_node(request)
    async with node.db.read() as db:
        village = await chosen_village(request, db)
        rows = await queries.latest(db, village["code"] if village else None)
    return render(request, "edge/news/list.html", {"posts": rows, "village": village})


def _saves_data(request: Request) -> bool:
    return request.headers.get("save-data", "").strip().lower() == "on"


async def detail(request: Request) -> Response:
    """One post; its thumbnail only when asked for (?photo=1) and never under Save-Data."""
    async with edge_node(request).db.read() as db:
        row = await queries.get(db, request.path_params["news_id"])
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这条消息。"))
    asked = request.query_params.get("photo") == "1"
    response = render(
        request,
        "edge/news/detail.html",
        {"post": row, "show_thumb": asked and not _saves_data(request), "asked": asked},
    )
    response.headers["Vary"] = "Save-Data"
    return response


async def photo(request: Request) -> Response:
    """A post's photo or thumbnail (public, content-addressed: cached for a year)."""
    async with edge_node(request).db.read() as db:
        row = await queries.get(db, request.path_params["news_id"])
    size = request.path_params["size"]
    if row is None or not row["photo_sha256"] or size not in ("thumb", "full"):
        raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
    sha = row["thumb_sha256"] if size == "thumb" else row["photo_sha256"]
    return Response(
        edge_node(request).blobs.read(sha),
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


async def _places(db: aiosqlite.Connection, account: Account, township: str) -> list[Any]:
    """(code, name) of where this account may post: the township and its villages for staff,
    the agent's own village for an agent."""
    villages = await places.villages_of(db, township)
    if account.role == "agent":
        return [
            (v["code"], v["name_zh"]) for v in villages if v["code"] == account.jurisdiction_code
        ]
    here = await places.get(db, township)
    name = here["name_zh"] if here else township
    return [(township, name), *((v["code"], v["name_zh"]) for v in villages)]


async def _form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    node = edge_node(request)
    account = require(request, *WRITERS)
    async with node.db.read() as db:
        choices = await _places(db, account, node.settings.township_code)
    return render(
        request,
        "edge/news/new.html",
        {"values": values, "errors": errors, "choices": choices, "key": str(ULID())},
        status_code=status,
    )


async def new(request: Request) -> Response:
    """The form for a short post."""
    require(request, *WRITERS)
    return await _form(request, {}, {})


async def _photo(request: Request, form: Any, errors: dict[str, str]) -> Any:
    value = form.get("photo")
    raw = await value.read(MAX_UPLOAD + 1) if hasattr(value, "read") and value.filename else b""
    if not raw:
        return None
    try:
        return await store_photo(edge_node(request).blobs, raw, "news", "photo")
    except PhotoRejected as exc:
        errors["photo"] = str(exc)
        return None


@allow_body(MAX_FORM_BYTES)
async def create(request: Request) -> Response:
    """Publish a post (township or village); once per idempotency key; audit-logged."""
    account = require(request, *WRITERS)
    node = edge_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    async with node.db.read() as db:
        allowed = {code for code, _name in await _places(db, account, node.settings.township_code)}
    values, errors = parse_news(form, allowed)
    upload = await _photo(request, form, errors)
    if errors:
        return await _form(request, values, errors, 400)
    digest = idempotency.request_hash({**values, "photo": upload.sha256 if upload else ""})
    now = stamp(node.clock())
    scope = "township" if values["place"] == node.settings.township_code else "village"
    try:
        async with node.db.write() as db:
            earlier = await idempotency.replay(db, key, account.id, digest)
            if earlier is not None:
                news_id = earlier.id
            else:
                if upload is not None:
                    await record_blobs(db, node.blobs, upload, now)
                news_id = await queries.create(
                    db,
                    scope=scope,
                    scope_code=values["place"],
                    title=values["title"],
                    body=values["body"],
                    photo=(upload.sha256, upload.thumb_sha256) if upload else None,
                    author_id=account.id,
                    now=now,
                )
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action="publish_news",
                    object_type="news",
                    object_id=news_id,
                    result="ok",
                    at=now,
                )
                result = idempotency.Result("news", news_id)
                await idempotency.remember(db, key, account.id, digest, result, now)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    if upload is not None:
        await run_in_threadpool(node.wake_worker)
    return RedirectResponse(path_for(request, "news:detail", news_id=news_id), status_code=303)


routes = [
    Route("/news", news_list, methods=["GET"], name="news:list"),
    Route("/news/{news_id}", detail, methods=["GET"], name="news:detail"),
    Route("/news/{news_id}/photo/{size}", photo, methods=["GET"], name="news:photo"),
    Route("/staff/news/new", new, methods=["GET"], name="news:new"),
    Route("/staff/news/new", csrf.protected(create), methods=["POST"], name="news:create"),
    Route("/agent/news/new", new, methods=["GET"], name="news:agent_new"),
    Route("/agent/news/new", csrf.protected(create), methods=["POST"], name="news:agent_create"),
]
