"""/staff/feedback...: township staff list, handle, transfer and answer items, edit what is
published; supervisors see the cards and send 催办. Every step is audit-logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.audit.log import append as audit
from edge.feedback import cards, forms, lifecycle, public, queries, states
from edge.feedback.routing import TOWNSHIP, routing
from edge.jurisdictions.codes import contains, prefix_of
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.ratings import levels
from edge.workdays.arithmetic import CARD_LABELS
from edge.workdays.working_days import load_working_days

STAFF_ROLES = ("township_staff", "supervisor")
LIST_STATES = ("open", *states.STATES)


async def _departments(db: aiosqlite.Connection) -> list[Any]:
    async with db.execute("SELECT code, name_zh, name_en FROM departments ORDER BY position") as c:
        return list(await c.fetchall())


async def _days(request: Request, db: aiosqlite.Connection) -> Any:
    node = edge_node(request)
    return await load_working_days(
        db, node.clock(), node.settings.web.timezone, node.settings.warning_working_days
    )


async def _audit(
    db: aiosqlite.Connection,
    keys_dir: Path,
    account: Account,
    action: str,
    item_id: str,
    at: str,
) -> None:
    await audit(
        db,
        keys_dir,
        actor_id=account.id,
        role=account.role,
        jurisdiction_code=account.jurisdiction_code,
        action=action,
        object_type="feedback",
        object_id=item_id,
        result="ok",
        at=at,
    )


def _context(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "state_label": states.label,
        "kind_of": routing().kind,
        "category_of": routing().category,
        "card_labels": CARD_LABELS,
        "rating_label": levels.label,
        "author_of": public.author,
        "text_of": public.text,
        "states": states.STATES,
        **extra,
    }


async def staff_list(request: Request) -> Response:
    """Items of my jurisdiction: open ones by due date with their card, then the rest."""
    account = require(request, *STAFF_ROLES)
    state = request.query_params.get("state", "open")
    state = state if state in LIST_STATES or state == "" else "open"
    async with edge_node(request).db.read() as db:
        rows = await queries.staff_list(db, prefix_of(account.jurisdiction_code), state)
        days = await _days(request, db)
    entries = [{"row": r, "card": cards.card_of(days, r["due_on"])[0]} for r in rows]
    return render(
        request,
        "edge/feedback/staff_list.html",
        _context({"entries": entries, "state": state, "list_states": LIST_STATES}),
    )


async def _item_for(request: Request, db: aiosqlite.Connection, account: Account) -> Any:
    row = await queries.item(db, request.path_params["item_id"])
    if row is None or not contains(account.jurisdiction_code, row["village_code"]):
        raise HTTPException(status_code=404, detail=_("没有找到这条留言。"))
    return row


async def _item_page(
    request: Request, account: Account, row: Any, error: str = "", status: int = 200
) -> Response:
    async with edge_node(request).db.read() as db:
        history = await queries.events(db, row["id"])
        departments = await _departments(db)
        days = await _days(request, db)
    return render(
        request,
        "edge/feedback/staff_item.html",
        _context(
            {
                "row": row,
                "history": history,
                "departments": departments,
                "card": cards.card_of(days, row["due_on"])[0],
                "moves": states.MOVES.get(row["state"], ()),
                "may_act": account.role == "township_staff" and row["level"] == TOWNSHIP,
                "may_urge": account.role == "supervisor" and row["state"] in states.OPEN,
                "key": str(ULID()),
                "error": error,
                "public_text": public.text(row),
            }
        ),
        status_code=status,
    )


async def staff_item(request: Request) -> Response:
    """The whole item (author's name and phone, original text, photo); the read is audited."""
    account = require(request, *STAFF_ROLES)
    node = edge_node(request)
    async with node.db.write() as db:
        row = await _item_for(request, db, account)
        await _audit(
            db,
            node.settings.keys_dir,
            account,
            "read_personal_data",
            row["id"],
            stamp(node.clock()),
        )
    return await _item_page(request, account, row)


async def _once(
    request: Request, account: Account, item_id: str, content: dict[str, Any], change: Any
) -> Response:
    """Run `change(db)` once per idempotency key, audit it, and go back to the item."""
    node = edge_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    digest = idempotency.request_hash({"item": item_id, **content})
    url = path_for(request, "feedback:staff_item", item_id=item_id)
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is None:
                await change(db)
                at = stamp(node.clock())
                await _audit(
                    db,
                    node.settings.keys_dir,
                    account,
                    f"feedback_{content['action']}",
                    item_id,
                    at,
                )
                result = idempotency.Result("feedback", item_id)
                await idempotency.remember(db, key, account.id, digest, result, at)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse(url, status_code=303)


async def act(request: Request) -> Response:
    """Transfer, handle, answer or record the follow-up visit (township staff)."""
    account = require(request, "township_staff")
    node = edge_node(request)
    async with node.db.read() as db:
        row = await _item_for(request, db, account)
        departments = {d["code"] for d in await _departments(db)}
    values, error = forms.parse_action(await request.form(), departments)
    if not error and row["level"] != TOWNSHIP:
        error = _("这条留言已转县级部门办理，由部门在市级平台答复。")

    async def change(db: aiosqlite.Connection) -> None:
        await lifecycle.move(
            db,
            row["id"],
            values["action"],
            account.name,
            node.clock(),
            note=values["note"],
            department=values["department"],
        )

    if not error:
        try:
            return await _once(request, account, row["id"], values, change)
        except (lifecycle.Refused, states.IllegalMove) as exc:
            error = str(exc)
    async with node.db.read() as db:
        row = await _item_for(request, db, account)
    return await _item_page(request, account, row, error, 400)


async def edit_public(request: Request) -> Response:
    """Staff edit the published version (text, name, photo); the original is kept."""
    account = require(request, *STAFF_ROLES)
    node = edge_node(request)
    async with node.db.read() as db:
        row = await _item_for(request, db, account)
    values, error = forms.parse_public(await request.form())

    async def change(db: aiosqlite.Connection) -> None:
        await lifecycle.edit_public(
            db,
            row["id"],
            values["public_body"],
            values["name_hidden"],
            values["photo_hidden"],
            account.name,
            node.clock(),
        )

    if not error:
        return await _once(request, account, row["id"], {"action": "public", **values}, change)
    return await _item_page(request, account, row, error, 400)


async def urge(request: Request) -> Response:
    """催办: a supervisor reminds the staff who must answer (SMS)."""
    account = require(request, "supervisor")
    node = edge_node(request)
    async with node.db.read() as db:
        row = await _item_for(request, db, account)

    async def change(db: aiosqlite.Connection) -> None:
        await lifecycle.urge(db, row["id"], account.name, node.clock())

    try:
        return await _once(request, account, row["id"], {"action": "urged"}, change)
    except lifecycle.Refused as exc:
        return await _item_page(request, account, row, str(exc), 400)


async def staff_photo(request: Request) -> Response:
    """The original photo, for staff of the village (audited)."""
    account = require(request, *STAFF_ROLES)
    node = edge_node(request)
    async with node.db.write() as db:
        row = await _item_for(request, db, account)
        if not row["photo_sha256"]:
            raise HTTPException(status_code=404, detail=_("没有找到这张照片。"))
        await _audit(
            db,
            node.settings.keys_dir,
            account,
            "read_personal_data",
            row["id"],
            stamp(node.clock()),
        )
    return Response(
        node.blobs.read(row["photo_sha256"]),
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


routes = [
    Route("/staff/feedback", staff_list, methods=["GET"], name="feedback:staff_list"),
    Route("/staff/feedback/{item_id}", staff_item, methods=["GET"], name="feedback:staff_item"),
    Route(
        "/staff/feedback/{item_id}/act",
        csrf.protected(act),
        methods=["POST"],
        name="feedback:act",
    ),
    Route(
        "/staff/feedback/{item_id}/public",
        csrf.protected(edit_public),
        methods=["POST"],
        name="feedback:edit_public",
    ),
    Route(
        "/staff/feedback/{item_id}/urge",
        csrf.protected(urge),
        methods=["POST"],
        name="feedback:urge",
    ),
    Route(
        "/staff/feedback/{item_id}/photo",
        staff_photo,
        methods=["GET"],
        name="feedback:staff_photo",
    ),
]
