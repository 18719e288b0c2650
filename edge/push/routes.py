"""/push/key and /push/subscriptions: agents and staff let their devices receive pushes."""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.node import edge_node
from edge.push import queries
from edge.push.keys import node_key

ROLES = ("agent", "township_staff", "officer")
MAX_ENDPOINT = 2048
KEY_BYTES = {"p256dh": 65, "auth": 16}  # an uncompressed P-256 point; a 16-byte secret


def _member(request: Request) -> Account:
    return require(request, *ROLES)


def _refuse() -> HTTPException:
    return HTTPException(status_code=400, detail=_("推送订阅信息不完整或无效。"))


def _decodes_to(value: object, size: int) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) == size
    except (binascii.Error, ValueError):
        return False


def _endpoint(value: object, allow_http: bool) -> str:
    schemes = ("https", "http") if allow_http else ("https",)
    if not isinstance(value, str) or len(value) > MAX_ENDPOINT:
        raise _refuse()
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise _refuse()
    return value


async def _body(request: Request) -> dict[str, object]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise _refuse() from None
    if not isinstance(body, dict):
        raise _refuse()
    return body


async def public_key(request: Request) -> Response:
    """The node's VAPID public key (the applicationServerKey), made on first use."""
    _member(request)
    async with edge_node(request).db.write() as db:
        key = await node_key(
            db, edge_node(request).settings.keys_dir, stamp(edge_node(request).clock())
        )
    return JSONResponse({"key": key}, headers={"Cache-Control": "no-store"})


async def subscribe(request: Request) -> Response:
    """Keep a browser's PushSubscription (JSON as the browser gives it) for this account; 409
    when another account holds its endpoint."""
    account = _member(request)
    body = await _body(request)
    endpoint = _endpoint(body.get("endpoint"), edge_node(request).settings.push_allow_http)
    keys = body.get("keys")
    if not isinstance(keys, dict) or not all(
        _decodes_to(keys.get(name), size) for name, size in KEY_BYTES.items()
    ):
        raise _refuse()
    async with edge_node(request).db.write() as db:
        kept = await queries.subscribe(
            db,
            account.id,
            endpoint,
            keys["p256dh"],
            keys["auth"],
            stamp(edge_node(request).clock()),
        )
    if not kept:
        detail = _("这台设备已为另一个账号接收推送，请先在该账号下关闭推送。")
        raise HTTPException(status_code=409, detail=detail)
    return Response(status_code=204)


async def unsubscribe(request: Request) -> Response:
    """Forget this account's subscription at the endpoint the JSON names."""
    account = _member(request)
    endpoint = (await _body(request)).get("endpoint")
    if not isinstance(endpoint, str):
        raise _refuse()
    async with edge_node(request).db.write() as db:
        await queries.unsubscribe(db, account.id, endpoint)
    return Response(status_code=204)


routes = [
    Route("/push/key", public_key, methods=["GET"], name="push:key"),
    Route(
        "/push/subscriptions", csrf.protected(subscribe), methods=["POST"], name="push:subscribe"
    ),
    Route(
        "/push/subscriptions/delete",
        csrf.protected(unsubscribe),
        methods=["POST"],
        name="push:unsubscribe",
    ),
]
