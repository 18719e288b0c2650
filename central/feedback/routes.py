"""/officer/feedback...: a county department's items from every township of its county, and
its answer, sent down the node's feed (the edge writes it into its own row)."""

from __future__ import annotations

from typing import Any

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from central.audit.record import record
from central.feed.queries import append
from central.feedback import queries
from central.node import central_node
from edge.feedback import public, states
from edge.feedback.forms import ANSWER_MAX
from edge.feedback.routing import routing
from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.text_input import text_problem
from edge.kernel.urls import path_for
from edge.workdays.arithmetic import CARD_LABELS
from edge.workdays.working_days import load_working_days
from replication.feed.commands import FeedbackAnswer


def _waiting(row: Any) -> bool:
    """An answer was sent and the township has not taken it yet."""
    return bool(row["command_id"]) and row["command_result"] is None


async def _days(request: Request, db: aiosqlite.Connection) -> Any:
    node = central_node(request)
    return await load_working_days(
        db, node.clock(), node.settings.web.timezone, node.settings.warning_working_days
    )


def _shown(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "state_label": states.label,
        "kind_of": routing().kind,
        "category_of": routing().category,
        "card_labels": CARD_LABELS,
        "author_of": public.author,
        "waiting": _waiting,
        "open_states": states.OPEN,
        **extra,
    }


async def items(request: Request) -> Response:
    """My department's items, open ones first with their card."""
    officer = require(request, "officer")
    async with central_node(request).db.read() as db:
        rows = await queries.department_items(db, officer)
        days = await _days(request, db)
    entries = [{"row": r, "card": days.card(r["due_on"])} for r in rows]
    return render(request, "central/feedback/items.html", _shown({"entries": entries}))


async def _load(request: Request, officer: Account) -> Any:
    params = request.path_params
    async with central_node(request).db.read() as db:
        row = await queries.department_item(db, officer, params["node_id"], params["item_id"])
        if row is None:
            raise HTTPException(status_code=404, detail=_("没有找到这条留言。"))
        history = await queries.events(db, row["node_id"], row["id"])
        days = await _days(request, db)
    return row, history, days.card(row["due_on"])


async def _page(
    request: Request, officer: Account, error: str = "", value: str = "", status: int = 200
) -> Response:
    row, history, card = await _load(request, officer)
    return render(
        request,
        "central/feedback/item.html",
        _shown({"row": row, "history": history, "card": card, "error": error, "value": value}),
        status_code=status,
    )


async def item(request: Request) -> Response:
    """One item in full (author's name and phone); the read is audited."""
    officer = require(request, "officer")
    row, _history, _card = await _load(request, officer)
    node = central_node(request)
    async with node.db.write() as db:
        object_id = f"{row['node_id']}:{row['id']}"
        await record(
            db,
            node.settings.keys_dir,
            officer,
            "read_personal_data",
            "feedback",
            object_id,
            stamp(node.clock()),
        )
    return await _page(request, officer)


async def answer(request: Request) -> Response:
    """The department's answer, appended to the node's feed; one at a time per item."""
    officer = require(request, "officer")
    node = central_node(request)
    row, _history, _card = await _load(request, officer)
    text = str((await request.form()).get("answer", "")).strip()
    problem = text_problem(text, multiline=True)
    if not text or len(text) > ANSWER_MAX or problem:
        message = str(problem) if problem else _("请填写答复内容，不超过2000个字。")
        return await _page(request, officer, message, text[:ANSWER_MAX], 400)
    if _waiting(row):
        return await _page(request, officer, _("答复已发往乡镇，正在等待乡镇接收。"), text, 409)
    if row["state"] not in states.OPEN:
        return await _page(request, officer, _("这条留言已经答复过了。"), text, 409)
    now = stamp(node.clock())
    command = FeedbackAnswer(
        node_id=row["node_id"],
        feedback_id=row["id"],
        department=str(officer.department_code),
        answer=text,
        answered_by=officer.name,
        answered_at=now,
    )
    async with node.db.write() as db:
        await append(db, row["node_id"], command, now, created_by=officer.id)
        await record(
            db,
            node.settings.keys_dir,
            officer,
            "answer",
            "feedback",
            f"{row['node_id']}:{row['id']}",
            now,
        )
    url = path_for(request, "officer:feedback_item", node_id=row["node_id"], item_id=row["id"])
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/officer/feedback", items, methods=["GET"], name="officer:feedback"),
    Route(
        "/officer/feedback/{node_id}/{item_id}",
        item,
        methods=["GET"],
        name="officer:feedback_item",
    ),
    Route(
        "/officer/feedback/{node_id}/{item_id}/answer",
        csrf.protected(answer),
        methods=["POST"],
        name="officer:feedback_answer",
    ),
]
