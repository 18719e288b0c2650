"""/admin/sms: a node admin sees the last messages of the outbox, phones masked, with their
attempts and a mark on those a gateway could not confirm (they may have gone out twice), and
the SMS residents sent; /sms/inbound takes a provider's signed delivery of one such SMS.

With the `log` gateway (demo, development) the admin can type an inbound SMS on the page.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.i18n import format_moment, lazy_gettext
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_phone, mask_text
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.sms import inbound
from edge.sms.gateways import SIGNATURE_HEADER
from edge.sms.inbound_handlers import INBOUND_HANDLERS

RECENT = 100

STATES = {
    "queued": lazy_gettext("排队中"),
    "sending": lazy_gettext("发送中"),
    "sent": lazy_gettext("已发送"),
    "failed": lazy_gettext("发送失败"),
}

TEMPLATES = {
    "accepted": lazy_gettext("受理通知"),
    "returned": lazy_gettext("补正通知"),
    "approved": lazy_gettext("办结通知"),
    "rejected": lazy_gettext("不予批准通知"),
    "deadline": lazy_gettext("到期提醒"),
    "reply": lazy_gettext("回复短信"),
    "login_code": lazy_gettext("登录验证码"),
    "materials": lazy_gettext("补正材料清单"),
    "rate_fix": lazy_gettext("整改后再评价"),
    "urge": lazy_gettext("催办"),
    "escalation": lazy_gettext("超期督办"),
}
RECENT_INBOUND = 30


async def recent(
    db: aiosqlite.Connection, timezone: str, limit: int = RECENT
) -> list[dict[str, Any]]:
    """The newest outbox rows, ready to show: local time, phone masked, state and template
    labelled."""
    async with db.execute(
        """
        SELECT created_at, phone, template, body, state, attempts, unconfirmed, last_error
        FROM sms_outbox ORDER BY created_at DESC, id DESC LIMIT ?
        """,
        (limit,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        {
            "created_at": format_moment(row["created_at"], timezone),
            "phone": mask_phone(row["phone"]),
            "template": TEMPLATES.get(row["template"], row["template"]),
            "body": row["body"],
            "state": STATES.get(row["state"], row["state"]),
            "attempts": row["attempts"],
            "unconfirmed": row["unconfirmed"],
            "last_error": row["last_error"],
        }
        for row in rows
    ]


async def recent_inbound(db: aiosqlite.Connection, timezone: str) -> list[dict[str, Any]]:
    """The newest SMS residents sent, masked: phone and any number in the text."""
    async with db.execute(
        "SELECT received_at, phone, text, claimed_by FROM sms_inbound "
        "ORDER BY received_at DESC, rowid DESC LIMIT ?",
        (RECENT_INBOUND,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        {
            "received_at": format_moment(row["received_at"], timezone),
            "phone": mask_phone(row["phone"]),
            "text": mask_text(row["text"]),
            "claimed": bool(row["claimed_by"]),
        }
        for row in rows
    ]


async def outbox_page(request: Request) -> Response:
    """The last 100 SMS of this node and how each one went, and the last SMS received."""
    require(request, "node_admin")
    return await _outbox(request, {}, {})


async def _outbox(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    node = edge_node(request)
    async with node.db.read() as db:
        rows = await recent(db, node.settings.web.timezone)
        received = await recent_inbound(db, node.settings.web.timezone)
    context = {
        "rows": rows,
        "received": received,
        "simulate": node.settings.sms_gateway == "log",
        "values": {"message_id": str(ULID()), **values},
        "errors": errors,
    }
    return render(request, "edge/sms/outbox.html", context, status_code=status_code)


async def simulate_inbound(request: Request) -> Response:
    """The `log` gateway's stand-in for a resident's SMS: the admin types it, the node takes it
    exactly as it takes a provider's delivery (the form's message id makes a resend a repeat)."""
    require(request, "node_admin")
    node = edge_node(request)
    if node.settings.sms_gateway != "log":
        return Response(status_code=404)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("message_id", "phone", "text")}
    try:
        sms = inbound.message(values["message_id"], values["phone"], values["text"], node.clock())
    except inbound.InboundError:
        errors = {"inbound": _("请填写11位手机号码和短信内容（不超过500字）。")}
        return await _outbox(request, values, errors, status_code=400)
    await inbound.receive(node.db, sms, INBOUND_HANDLERS, node.clock(), node.settings)
    return RedirectResponse(path_for(request, "sms:outbox") + "#received", status_code=303)


async def webhook(request: Request) -> Response:
    """A provider delivers one SMS a resident sent: JSON {id, phone, text}, signed with
    CUNBAN_SMS_INBOUND_SECRET; 200 once it is committed (a repeat is 200 too, done once)."""
    node = edge_node(request)
    secret = node.settings.sms_inbound_secret
    if not secret:
        return Response(status_code=404)
    body = await request.body()
    sent = request.headers.get(SIGNATURE_HEADER, "")
    try:
        sms = inbound.from_webhook(body, sent, secret, node.clock())
    except PermissionError:
        return JSONResponse({"error": "bad signature"}, status_code=401)
    except inbound.InboundError as problem:
        return JSONResponse({"error": str(problem)}, status_code=400)
    received = await inbound.receive(node.db, sms, INBOUND_HANDLERS, node.clock(), node.settings)
    return JSONResponse({"id": sms.id, "repeated": received.repeated})


routes = [
    Route("/admin/sms", outbox_page, methods=["GET"], name="sms:outbox"),
    Route(
        "/admin/sms/inbound",
        csrf.protected(simulate_inbound),
        methods=["POST"],
        name="sms:simulate_inbound",
    ),
    Route("/sms/inbound", webhook, methods=["POST"], name="sms:inbound"),
]
