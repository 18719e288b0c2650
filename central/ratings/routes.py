"""/disclosure/ratings (the city's published figures) and /officer/follow-ups (county
follow-ups of bad ratings: recorded here, sent down the feed, written by the township)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from central.audit.record import record
from central.feed import queries as feed
from central.node import central_node
from central.ratings import queries
from edge.applications.tracking_code import format_code
from edge.kernel import csrf
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick
from edge.kernel.masking import mask_name
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.ratings.forms import parse_choice, parse_note
from edge.ratings.levels import CALLBACK_LABELS, CHANNELS, LEVELS, REMEDY_LABELS, STATUS_LABELS
from edge.workdays.arithmetic import CARD_LABELS
from edge.workdays.working_days import WorkingDays, load_working_days
from replication.feed.commands import FOLLOW_UP_ACTIONS, FollowUpAction, OfficerCard

CHOICES = {"remedy": tuple(REMEDY_LABELS), "callback": tuple(CALLBACK_LABELS)}


async def _days(request: Request, db: aiosqlite.Connection) -> WorkingDays:
    node = central_node(request)
    return await load_working_days(
        db, node.clock(), node.settings.web.timezone, node.settings.warning_working_days
    )


def percent(share: float | None) -> str:
    """A share as a whole percentage; a dash when there is nothing to divide."""
    return "—" if share is None else f"{share * 100:.0f}%"


async def disclosure(request: Request) -> Response:
    """Every township's figures per unit and month, the last 12 months; no personal data."""
    async with central_node(request).db.read() as db:
        days = await _days(request, db)
        first = days.today.replace(day=1)
        for _month in range(11):
            first = (first - timedelta(days=1)).replace(day=1)
        rows = await queries.city_figures(
            db, since=first.isoformat(), until=(days.today + timedelta(days=1)).isoformat()
        )
    return render(
        request,
        "central/ratings/disclosure.html",
        {"rows": rows, "percent": percent, "pick": pick},
    )


def _next_action(row: Any, sent: list[Any]) -> tuple[str | None, bool]:
    """(the next action to record, whether one sent is still waiting for the township)."""
    waiting = any(s["result"] is None for s in sent)
    done = {s["action"] for s in sent if s["result"] == "applied"}
    done |= {
        a
        for a, column in zip(
            FOLLOW_UP_ACTIONS, ("verified_at", "remedy_at", "callback_at"), strict=True
        )
        if row[column]
    }
    if row["status"] != "open":
        return None, waiting
    pending = {s["action"] for s in sent if s["result"] is None}
    for action in FOLLOW_UP_ACTIONS:
        if action not in done and action not in pending:
            return (None if waiting else action), waiting
    return None, waiting


async def follow_up_list(request: Request) -> Response:
    """My department's county follow-ups in my county, open first with their cards."""
    officer = require(request, "officer")
    async with central_node(request).db.read() as db:
        rows = await queries.follow_ups(db, officer)
        days = await _days(request, db)
    entries = [
        {"row": r, "card": days.card(r["due_on"]) if r["status"] == "open" else None} for r in rows
    ]
    return render(
        request,
        "central/ratings/follow_ups.html",
        {
            "entries": entries,
            "card_labels": CARD_LABELS,
            "levels": LEVELS,
            "statuses": STATUS_LABELS,
            "format_code": format_code,
        },
    )


async def _case(request: Request, officer: Account) -> tuple[Any, list[Any], WorkingDays]:
    node_id = request.path_params["node_id"]
    follow_up_id = request.path_params["follow_up_id"]
    async with central_node(request).db.read() as db:
        row = await queries.follow_up(db, officer, node_id, follow_up_id)
        if row is None:
            raise HTTPException(status_code=404, detail=_("没有找到这个整改件。"))
        return row, await queries.sent_actions(db, node_id, follow_up_id), await _days(request, db)


def _case_page(
    request: Request,
    row: Any,
    sent: list[Any],
    days: WorkingDays,
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    action, waiting = _next_action(row, sent)
    return render(
        request,
        "central/ratings/follow_up.html",
        {
            "f": row,
            "sent": sent,
            "next": action,
            "waiting": waiting,
            "card": days.card(row["due_on"]) if row["status"] == "open" else None,
            "card_labels": CARD_LABELS,
            "levels": LEVELS,
            "channels": CHANNELS,
            "remedies": REMEDY_LABELS,
            "callbacks": CALLBACK_LABELS,
            "statuses": STATUS_LABELS,
            "code": format_code(row["tracking_code"]),
            "applicant": mask_name(row["applicant_name"]),
            "errors": errors,
        },
        status_code=status,
    )


async def follow_up_page(request: Request) -> Response:
    """One case with the applicant's phone for the call-back; the read is audited."""
    officer = require(request, "officer")
    row, sent, days = await _case(request, officer)
    node = central_node(request)
    async with node.db.write() as db:
        object_id = f"{row['node_id']}:{row['id']}"
        await record(
            db,
            node.settings.keys_dir,
            officer,
            "read_personal_data",
            "follow_up",
            object_id,
            stamp(node.clock()),
        )
    return _case_page(request, row, sent, days, {})


async def follow_up_action(request: Request) -> Response:
    """Record 核实, 整改/说明 or 回访 and send it to the township; one action waits at a time, so
    a repeated post is refused instead of sent twice; answered after commit."""
    officer = require(request, "officer")
    node = central_node(request)
    action = request.path_params["action"]
    if action not in FOLLOW_UP_ACTIONS:
        raise HTTPException(status_code=404)
    form = await request.form()
    note, errors = parse_note(form)
    choice = ""
    if action in CHOICES:
        choice, more = parse_choice(
            form, "remedy" if action == "remedy" else "result", CHOICES[action]
        )
        errors |= more
    row, sent, days = await _case(request, officer)
    expected, waiting = _next_action(row, sent)
    if not errors and expected != action:
        message = _("上一步已发往乡镇，等待执行。") if waiting else _("这一步现在不能办理。")
        return _case_page(request, row, sent, days, {"action": message}, status=409)
    if errors:
        return _case_page(request, row, sent, days, errors, status=400)
    now = stamp(node.clock())
    card = OfficerCard(
        officer.id, officer.name, None, officer.jurisdiction_code, officer.department_code
    )
    command = FollowUpAction(row["node_id"], row["id"], action, choice, note, now, card)
    async with node.db.write() as db:
        await feed.append(db, row["node_id"], command, now, created_by=officer.id)
        object_id = f"{row['node_id']}:{row['id']}"
        await record(
            db, node.settings.keys_dir, officer, f"follow_up_{action}", "follow_up", object_id, now
        )
    url = path_for(
        request, "central_ratings:follow_up", node_id=row["node_id"], follow_up_id=row["id"]
    )
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/disclosure/ratings", disclosure, methods=["GET"], name="central_ratings:disclosure"),
    Route(
        "/officer/follow-ups", follow_up_list, methods=["GET"], name="central_ratings:follow_ups"
    ),
    Route(
        "/officer/follow-ups/{node_id}/{follow_up_id}",
        follow_up_page,
        methods=["GET"],
        name="central_ratings:follow_up",
    ),
    Route(
        "/officer/follow-ups/{node_id}/{follow_up_id}/{action}",
        csrf.protected(follow_up_action),
        methods=["POST"],
        name="central_ratings:action",
    ),
]
