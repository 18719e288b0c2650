"""/open311/keys: a central admin makes an Open311 API key for a client (shown once, kept as
its sha256, with a limit of requests per hour), sees every key and its use, revokes one; each
change is in central's audit log."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from central.audit.record import record
from central.feedback import keys
from central.feedback.forms import parse_key
from central.node import central_node
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for

ADMIN = "central_admin"


async def _page(
    request: Request, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    node = central_node(request)
    async with node.db.read() as db:
        rows = await keys.all_keys(db, node.clock())
    context = {
        "keys": rows,
        "values": {"per_hour": keys.DEFAULT_PER_HOUR},
        "errors": {},
        "key": str(ULID()),
        "raw": "",
        "made_for": "",
        "notice": "",
        "max_per_hour": keys.MAX_PER_HOUR,
        **(extra or {}),
    }
    response = render(request, "central/feedback/keys.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # a new key is on the page once
    return response


async def key_list(request: Request) -> Response:
    """Every key with its limit and its requests in the last hour, and the form for a new one."""
    require(request, ADMIN)
    return await _page(request)


async def _create(
    db: Any, request: Request, account: Account, values: dict[str, Any]
) -> tuple[str, str]:
    """Make the key and its audit row: (its id, the raw key)."""
    node = central_node(request)
    now = stamp(node.clock())
    raw = await keys.create(db, values["name"], account.id, now, values["per_hour"])
    made = await keys.active_key(db, raw)
    assert made is not None  # just made, in this transaction
    await record(
        db, node.settings.keys_dir, account, "open311_key", "open311_keys", made["id"], now
    )
    return str(made["id"]), raw


async def create(request: Request) -> Response:
    """A new key, shown on the answer once; a retry of the same form shows no key again."""
    account = require(request, ADMIN)
    node = central_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    values, errors = parse_key(form)
    if errors:
        return await _page(request, {"values": values, "errors": errors}, 400)
    digest = idempotency.request_hash(values)
    raw = ""
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is None:
                key_id, raw = await _create(db, request, account, values)
                result = idempotency.Result("open311_key", key_id)
                await idempotency.remember(db, key, account.id, digest, result, stamp(node.clock()))
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    if not raw:
        notice = _("这个密钥已经生成过，只显示一次。如果没有记下，请撤销它再生成一个。")
        return await _page(request, {"notice": notice})
    return await _page(request, {"raw": raw, "made_for": values["name"]})


async def revoke(request: Request) -> Response:
    """Revoke a key at once: its next request is refused (403); audited once, a retry lands
    on the list too."""
    account = require(request, ADMIN)
    node = central_node(request)
    key_id = request.path_params["key_id"]
    now = stamp(node.clock())
    async with node.db.write() as db:
        done = await keys.revoke(db, key_id, account.id, now)
        if done is None:
            raise HTTPException(status_code=404, detail=_("没有这个密钥。"))
        if done:
            await record(
                db,
                node.settings.keys_dir,
                account,
                "revoke_open311_key",
                "open311_keys",
                key_id,
                now,
            )
    return RedirectResponse(path_for(request, "feedback:api_keys"), status_code=303)


routes = [
    Route("/open311/keys", key_list, methods=["GET"], name="feedback:api_keys"),
    Route(
        "/open311/keys", csrf.protected(create), methods=["POST"], name="feedback:create_api_key"
    ),
    Route(
        "/open311/keys/{key_id}/revoke",
        csrf.protected(revoke),
        methods=["POST"],
        name="feedback:revoke_api_key",
    ),
]
