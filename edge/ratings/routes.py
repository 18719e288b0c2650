"""/rate/{token} (the applicant's rating, no login), /staff/follow-ups (整改 cases) and
/disclosure/ratings (published figures, no personal data)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.applications import queries as application_queries
from edge.applications.context import working_days_for
from edge.applications.tracking_code import format_code
from edge.audit.log import append as audit
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick
from edge.kernel.masking import mask_name, mask_phone
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.ratings import follow_ups, queries
from edge.ratings.access import FOLLOW_UP_ROLES, channel_of, may_act, may_view
from edge.ratings.forms import parse_choice, parse_note, parse_rating
from edge.ratings.levels import (
    CALLBACK_LABELS,
    CHANNELS,
    INDICATORS,
    LEVELS,
    REMEDY_LABELS,
    STATUS_LABELS,
    is_bad,
)
from edge.ratings.recording import RatingClosed, record, state
from edge.ratings.tokens import plausible, token_hash
from edge.workdays.arithmetic import CARD_LABELS, CARD_ORDER

NO_STORE = {"Cache-Control": "no-store"}
ACTIONS = ("verify", "remedy", "callback")


# --- the applicant's rating ------------------------------------------------------------------


async def _invitation(db: aiosqlite.Connection, token: str) -> Any:
    row = await queries.by_token_hash(db, token_hash(token)) if plausible(token) else None
    if row is None:
        raise HTTPException(status_code=404, detail=_("这个评价链接无效，请核对短信中的链接。"))
    return row


def _rate_page(
    request: Request,
    row: Any,
    opinions: list[str],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    now = edge_node(request).clock()
    account = request.scope.get("account")
    return render(
        request,
        "edge/ratings/rate.html",
        {
            "row": row,
            "state": state(row, now),
            "hide_rating": account is not None and account.role == "agent",
            "code": format_code(row["tracking_code"]),
            "opinions": opinions,
            "levels": LEVELS,
            "indicators": INDICATORS,
            "values": values,
            "errors": errors,
        },
        status_code=status,
    )


async def _opinions(db: aiosqlite.Connection, application_id: str) -> list[str]:
    """The reasons given on the application's steps (shown as on the tracking page)."""
    steps = await application_queries.steps(db, application_id)
    return [s.opinion for s in steps if s.opinion]


def _current(row: Any) -> dict[str, Any]:
    """The rating given, to change: the comment is not put back on a public page (it stays
    unless a new one is typed)."""
    return {"level": row["level"]} | {n: row[n] for n in INDICATORS}


async def rate_form(request: Request) -> Response:
    """The invitation: the result, and the form (or the rating given, changeable for 24 h)."""
    async with edge_node(request).db.read() as db:
        row = await _invitation(db, request.path_params["token"])
        opinions = await _opinions(db, row["application_id"])
    response = _rate_page(request, row, opinions, _current(row), {})
    response.headers.update(NO_STORE)
    return response


async def rate(request: Request) -> Response:
    """Record the rating (or its change within 24 h); answered after commit. Posting the same
    rating again changes nothing, so a retried post is harmless."""
    node = edge_node(request)
    given, values, errors = parse_rating(await request.form())
    token = request.path_params["token"]
    if given is not None:
        try:
            async with node.db.write() as db:
                row = await _invitation(db, token)
                days = await working_days_for(request, db)
                await record(db, row, given, channel_of(request, "link"), node.clock(), days)
            url = path_for(request, "ratings:rate", token=token)
            return RedirectResponse(f"{url}?done=1", status_code=303)
        except RatingClosed as exc:
            errors = {"level": str(exc)}
    async with node.db.read() as db:
        row = await _invitation(db, token)
        opinions = await _opinions(db, row["application_id"])
    response = _rate_page(request, row, opinions, values, errors, status=400)
    response.headers.update(NO_STORE)
    return response


# --- follow-ups (staff) ----------------------------------------------------------------------


async def follow_up_list(request: Request) -> Response:
    """Open cases first, red then yellow, then the closed ones."""
    account = require(request, *FOLLOW_UP_ROLES)
    async with edge_node(request).db.read() as db:
        rows = await queries.follow_ups(db, account)
        days = await working_days_for(request, db)
    entries = [
        {"row": r, "card": days.card(r["due_on"]) if r["status"] == "open" else None} for r in rows
    ]
    entries.sort(key=lambda e: (e["card"] is None, CARD_ORDER.get(e["card"] or "", 3)))
    return render(
        request,
        "edge/ratings/follow_ups.html",
        {
            "entries": entries,
            "card_labels": CARD_LABELS,
            "levels": LEVELS,
            "statuses": STATUS_LABELS,
            "format_code": format_code,
            "may_act": lambda row: may_act(account, row),
        },
    )


async def _audit(
    db: aiosqlite.Connection,
    keys_dir: Path,
    account: Account,
    action: str,
    object_type: str,
    object_id: str,
    at: str,
) -> None:
    await audit(
        db,
        keys_dir,
        actor_id=account.id,
        role=account.role,
        jurisdiction_code=account.jurisdiction_code,
        action=action,
        object_type=object_type,
        object_id=object_id,
        result="ok",
        at=at,
    )


async def _case(db: aiosqlite.Connection, account: Account, follow_up_id: str) -> Any:
    row = await queries.follow_up(db, follow_up_id)
    if row is None or not may_view(account, row):
        raise HTTPException(status_code=404, detail=_("没有找到这个整改件。"))
    return row


async def _case_page(
    request: Request, account: Account, row: Any, errors: dict[str, str], status: int = 200
) -> Response:
    async with edge_node(request).db.read() as db:
        days = await working_days_for(request, db)
        fix = await queries.latest_for_application(db, row["application_id"])
    return render(
        request,
        "edge/ratings/follow_up.html",
        {
            "f": row,
            "card": days.card(row["due_on"]) if row["status"] == "open" else None,
            "card_labels": CARD_LABELS,
            "levels": LEVELS,
            "indicators": INDICATORS,
            "channels": CHANNELS,
            "remedies": REMEDY_LABELS,
            "callbacks": CALLBACK_LABELS,
            "statuses": STATUS_LABELS,
            "code": format_code(row["tracking_code"]),
            "applicant": mask_name(row["applicant_name"]),
            "phone": row["phone"] if may_act(account, row) else mask_phone(row["phone"]),
            "may_act": may_act(account, row),
            "may_mark": account.role == "supervisor" and is_bad(row["level"]),
            "fix": fix if fix is not None and fix["round"] == 2 else None,
            "errors": errors,
            "key": str(ULID()),
        },
        status_code=status,
    )


async def follow_up_page(request: Request) -> Response:
    """One case: the rating, what was done, the forms of the next action; the read of the
    applicant's phone is audited."""
    account = require(request, *FOLLOW_UP_ROLES)
    node = edge_node(request)
    async with node.db.write() as db:
        row = await _case(db, account, request.path_params["follow_up_id"])
        await _audit(
            db,
            node.settings.keys_dir,
            account,
            "read_personal_data",
            "follow_up",
            row["id"],
            stamp(node.clock()),
        )
    return await _case_page(request, account, row, {})


def _action_values(form: FormData, action: str) -> tuple[dict[str, str], dict[str, str]]:
    if action == "verify":
        note, errors = parse_note(form)
        return {"note": note}, errors
    if action == "remedy":
        kind, errors = parse_choice(form, "remedy", follow_ups.REMEDIES)
        note, more = parse_note(form)
        return {"remedy": kind, "note": note}, errors | more
    result, errors = parse_choice(form, "result", follow_ups.CALLBACK_RESULTS)
    note, more = parse_note(form)
    return {"result": result, "note": note}, errors | more


async def _apply(
    request: Request,
    db: aiosqlite.Connection,
    row: Any,
    action: str,
    values: dict[str, str],
    account: Account,
) -> None:
    node = edge_node(request)
    now = node.clock()
    at = stamp(now)
    if action == "verify":
        await follow_ups.verify(db, row, values["note"], account.id, at)
    elif action == "remedy":
        await follow_ups.remedy(db, row, values["remedy"], values["note"], account.id, at)
    else:
        days = await working_days_for(request, db)
        await follow_ups.call_back(db, row, values["result"], values["note"], account.id, days, at)
        rating = await queries.rating(db, row["rating_id"])
        await follow_ups.invite_to_rate_fix(
            db,
            row,
            rating,
            base=node.settings.web.public_base,
            item=rating["item_name_zh"],
            now=now,
        )
    await _audit(
        db, node.settings.keys_dir, account, f"follow_up_{action}", "follow_up", row["id"], at
    )


async def follow_up_action(request: Request) -> Response:
    """核实, 整改/说明 or 回访 (which closes the case); once per idempotency key."""
    account = require(request, "township_staff", "officer")
    node = edge_node(request)
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise HTTPException(status_code=404)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    values, errors = _action_values(form, action)
    follow_up_id = request.path_params["follow_up_id"]
    url = path_for(request, "ratings:follow_up", follow_up_id=follow_up_id)
    digest = idempotency.request_hash({"follow_up": follow_up_id, "action": action, **values})
    try:
        async with node.db.write() as db:
            row = await _case(db, account, follow_up_id)
            if await idempotency.replay(db, key, account.id, digest) is not None:
                return RedirectResponse(url, status_code=303)
            if not may_act(account, row):
                raise HTTPException(status_code=403, detail=_("这个整改件由承办单位处理。"))
            if not errors:
                await _apply(request, db, row, action, values, account)
                result = idempotency.Result("follow_up", row["id"])
                await idempotency.remember(db, key, account.id, digest, result, stamp(node.clock()))
                return RedirectResponse(url, status_code=303)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except follow_ups.FollowUpRefused as exc:
        errors = {"action": str(exc)}
    async with node.db.read() as db:
        row = await _case(db, account, follow_up_id)
    return await _case_page(request, account, row, errors, status=400)


async def mark_malicious(request: Request) -> Response:
    """A supervisor marks a bad rating malicious, only with a reason (audited); its open case
    is dropped and it leaves the published 差评 count."""
    account = require(request, "supervisor")
    node = edge_node(request)
    reason, errors = parse_note(await request.form(), "reason")
    follow_up_id = request.path_params["follow_up_id"]
    async with node.db.write() as db:
        row = await _case(db, account, follow_up_id)
        if not errors and is_bad(row["level"]):
            at = stamp(node.clock())
            await db.execute(
                "UPDATE ratings SET malicious_reason = ?, malicious_by = ?, malicious_at = ? "
                "WHERE id = ?",
                (reason, account.id, at, row["rating_id"]),
            )
            await db.execute(
                "UPDATE follow_ups SET status = 'dismissed' WHERE id = ? AND status = 'open'",
                (follow_up_id,),
            )
            await _audit(
                db,
                node.settings.keys_dir,
                account,
                "rating_malicious",
                "rating",
                row["rating_id"],
                at,
            )
            url = path_for(request, "ratings:follow_up", follow_up_id=follow_up_id)
            return RedirectResponse(url, status_code=303)
    return await _case_page(request, account, row, errors, status=400)


# --- published figures -----------------------------------------------------------------------


def months_back(today: date, count: int) -> str:
    """The first day of the month `count - 1` months before today's (ISO)."""
    year, month = today.year, today.month - (count - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1).isoformat()


async def disclosure(request: Request) -> Response:
    """Per month and unit, the last 12 months: received, 好评率, 差评率, 差评整改率 and the
    non-response rate. No personal data; two queries."""
    async with edge_node(request).db.read() as db:
        days = await working_days_for(request, db)
        rows = await queries.figures(
            db,
            since=months_back(days.today, 12),
            until=(days.today + timedelta(days=1)).isoformat(),
        )
    return render(
        request,
        "edge/ratings/disclosure.html",
        {"rows": rows, "office": _office_name, "percent": percent},
    )


def percent(share: float | None) -> str:
    """A share as a whole percentage; a dash when there is nothing to divide."""
    return "—" if share is None else f"{share * 100:.0f}%"


def _office_name(row: queries.RatingFigures) -> str:
    return pick(row.office_zh, row.office_en)


routes = [
    Route("/rate/{token}", rate_form, methods=["GET"], name="ratings:rate"),
    Route("/rate/{token}", csrf.protected(rate), methods=["POST"], name="ratings:submit"),
    Route("/staff/follow-ups", follow_up_list, methods=["GET"], name="ratings:follow_ups"),
    Route(
        "/staff/follow-ups/{follow_up_id}",
        follow_up_page,
        methods=["GET"],
        name="ratings:follow_up",
    ),
    Route(
        "/staff/follow-ups/{follow_up_id}/malicious",
        csrf.protected(mark_malicious),
        methods=["POST"],
        name="ratings:malicious",
    ),
    Route(
        "/staff/follow-ups/{follow_up_id}/{action}",
        csrf.protected(follow_up_action),
        methods=["POST"],
        name="ratings:action",
    ),
    Route("/disclosure/ratings", disclosure, methods=["GET"], name="ratings:disclosure"),
]
