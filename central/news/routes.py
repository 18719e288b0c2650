"""/news at central: every township's and village's posts with the city's own; a central admin
posts a city-wide one at /news/new, sent to every node."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from central.feed.publish import publish_city_news
from central.news import queries
from central.node import central_node
from edge.audit.log import append as audit
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.news.forms import parse_news
from replication.feed.commands import CityNews

ADMIN = "central_admin"
CITY = "city"


async def news_list(request: Request) -> Response:
    """Newest first, the whole city."""
    async with central_node(request).db.read() as db:
        rows = await queries.latest(db)
    return render(request, "central/news/list.html", {"posts": rows})


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return render(
        request,
        "central/news/new.html",
        {"values": values, "errors": errors, "key": str(ULID())},
        status_code=status,
    )


async def new(request: Request) -> Response:
    """The form for a city-wide post."""
    require(request, ADMIN)
    return _form(request, {}, {})


async def create(request: Request) -> Response:
    """Publish a city-wide post to every node; once per key; in central's audit log."""
    account = require(request, ADMIN)
    node = central_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    values, errors = parse_news(form, {CITY})
    if errors:
        return _form(request, values, errors, 400)
    digest = idempotency.request_hash(values)
    now = stamp(node.clock())
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is None:
                news_id = str(ULID())
                await queries.create(db, news_id, values["title"], values["body"], account.id, now)
                post = CityNews(news_id, values["title"], values["body"], now)
                await publish_city_news(db, post, now)
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
    return RedirectResponse(path_for(request, "news:list"), status_code=303)


routes = [
    Route("/news", news_list, methods=["GET"], name="news:list"),
    Route("/news/new", new, methods=["GET"], name="news:new"),
    Route("/news/new", csrf.protected(create), methods=["POST"], name="news:create"),
]
