"""/admin/sms: a node admin sees the last messages of the outbox, phones masked, with their
attempts and a mark on those a gateway could not confirm (they may have gone out twice)."""

from __future__ import annotations

from typing import Any

import aiosqlite
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.kernel.auth.access import require
from edge.kernel.i18n import lazy_gettext
from edge.kernel.masking import mask_phone
from edge.kernel.templating import render
from edge.node import edge_node

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
    "urge": lazy_gettext("催办"),
    "escalation": lazy_gettext("超期督办"),
}


async def recent(db: aiosqlite.Connection, limit: int = RECENT) -> list[dict[str, Any]]:
    """The newest outbox rows, ready to show: phone masked, state and template labelled."""
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
            "created_at": row["created_at"],
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


async def outbox_page(request: Request) -> Response:
    """The last 100 SMS of this node and how each one went."""
    require(request, "node_admin")
    async with edge_node(request).db.read() as db:
        rows = await recent(db)
    return render(request, "edge/sms/outbox.html", {"rows": rows})


routes = [
    Route("/admin/sms", outbox_page, methods=["GET"], name="sms:outbox"),
]
