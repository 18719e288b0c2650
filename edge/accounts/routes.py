"""/admin/accounts: a node admin lists, creates and edits the accounts of their township."""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.accounts import queries
from edge.accounts.forms import parse_account
from edge.accounts.roles import ASSIGNABLE_ROLES, label
from edge.jurisdictions import queries as places
from edge.kernel import csrf
from edge.kernel.auth import sessions
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.auth.passwords import hash_password
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node


async def _choices(request: Request, admin: Account) -> dict[str, Any]:
    async with edge_node(request).db.read() as db:
        jurisdictions = await places.inside(db, admin.jurisdiction_code)
        async with db.execute("SELECT * FROM departments ORDER BY position") as cursor:
            departments = list(await cursor.fetchall())
    roles = [(role, label(role)) for role in ASSIGNABLE_ROLES]
    return {"jurisdictions": jurisdictions, "departments": departments, "roles": roles}


def _form_page(
    request: Request,
    choices: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str],
    *,
    account_id: str | None,
    status: int = 200,
) -> Response:
    context = choices | {"values": values, "errors": errors, "account_id": account_id}
    return render(request, "edge/accounts/form.html", context, status_code=status)


async def account_list(request: Request) -> Response:
    """Every account inside the admin's township."""
    admin = require(request, "node_admin")
    async with edge_node(request).db.read() as db:
        rows = await queries.list_within(db, admin.jurisdiction_code)
    return render(request, "edge/accounts/list.html", {"rows": rows, "label": label})


async def new_account_page(request: Request) -> Response:
    """An empty account form."""
    admin = require(request, "node_admin")
    values = {
        "phone": "",
        "name": "",
        "role": "agent",
        "jurisdiction_code": "",
        "department_code": "",
        "active": "1",
    }
    return _form_page(request, await _choices(request, admin), values, {}, account_id=None)


async def _parse(
    request: Request, admin: Account, context: dict[str, Any], *, current_role: str = ""
) -> tuple[dict, dict]:
    return parse_account(
        await request.form(),
        admin_jurisdiction=admin.jurisdiction_code,
        places={j["code"] for j in context["jurisdictions"]},
        departments={d["code"] for d in context["departments"]},
        new=not current_role,
        officers_here=not edge_node(request).settings.central_url,
        current_role=current_role,
    )


@csrf.protected
async def create_account(request: Request) -> Response:
    """Save a new account, or show the form again with what was wrong."""
    admin = require(request, "node_admin")
    choices = await _choices(request, admin)
    values, errors = await _parse(request, admin, choices)
    if not errors:
        password_hash = await run_in_threadpool(hash_password, values["password"])
        try:
            async with edge_node(request).db.write() as db:
                await queries.create(
                    db,
                    phone=values["phone"],
                    name=values["name"],
                    role=values["role"],
                    jurisdiction_code=values["jurisdiction_code"],
                    department_code=values["department_code"] or None,
                    password_hash=password_hash,
                    now=stamp(edge_node(request).clock()),
                )
        except sqlite3.IntegrityError:
            errors["phone"] = _("这个手机号码已经有账号了。")
    if errors:
        values["password"] = ""
        return _form_page(request, choices, values, errors, account_id=None, status=400)
    return RedirectResponse(path_for(request, "accounts:list"), status_code=303)


async def _owned(request: Request, admin: Account) -> Any:
    async with edge_node(request).db.read() as db:
        row = await queries.by_id_within(
            db, request.path_params["account_id"], admin.jurisdiction_code
        )
    if row is None:
        raise HTTPException(status_code=404, detail=_("没有找到这个账号。"))
    return row


async def edit_account_page(request: Request) -> Response:
    """The form of an existing account of this township."""
    admin = require(request, "node_admin")
    row = await _owned(request, admin)
    values = {key: row[key] or "" for key in ("phone", "name", "role", "jurisdiction_code")}
    values |= {"department_code": row["department_code"] or "", "active": str(row["active"])}
    choices = await _choices(request, admin)
    return _form_page(request, choices, values, {}, account_id=row["id"])


@csrf.protected
async def update_account(request: Request) -> Response:
    """Save changes; a new password or deactivation ends the account's sessions."""
    admin = require(request, "node_admin")
    row = await _owned(request, admin)
    choices = await _choices(request, admin)
    values, errors = await _parse(request, admin, choices, current_role=row["role"])
    values["phone"] = row["phone"]
    if row["id"] == admin.id and (values["role"] != "node_admin" or not values["active"]):
        errors["role"] = _("不能取消自己的管理员权限或停用自己的账号。")
    if errors:
        values["password"] = ""
        return _form_page(request, choices, values, errors, account_id=row["id"], status=400)
    now = stamp(edge_node(request).clock())
    new_hash = values["password"] and await run_in_threadpool(hash_password, values["password"])
    async with edge_node(request).db.write() as db:
        await queries.update(
            db,
            row["id"],
            name=values["name"],
            role=values["role"],
            jurisdiction_code=values["jurisdiction_code"],
            department_code=values["department_code"] or None,
            active=bool(values["active"]),
            now=now,
        )
        if new_hash:
            await queries.set_password(db, row["id"], new_hash, now)
        if values["password"] or not values["active"]:
            await sessions.end_all(db, row["id"])
    return RedirectResponse(path_for(request, "accounts:list"), status_code=303)


routes = [
    Route("/admin/accounts", account_list, methods=["GET"], name="accounts:list"),
    Route("/admin/accounts/new", new_account_page, methods=["GET"], name="accounts:new"),
    Route("/admin/accounts/new", create_account, methods=["POST"], name="accounts:create"),
    Route("/admin/accounts/{account_id}", edit_account_page, methods=["GET"], name="accounts:edit"),
    Route("/admin/accounts/{account_id}", update_account, methods=["POST"], name="accounts:update"),
]
