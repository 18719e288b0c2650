"""/me: 我的办事. A resident signs in with their phone and an SMS code (no password to
remember; code checks limited like the tracking details) and sees their applications (with
their own receipts and certificates, printable) and 我有话说 items. Staff accounts sign in
with their password, never by code."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from edge.accounts import queries as accounts
from edge.applications import queries as applications
from edge.applications import states
from edge.applications.tracking_code import format_code
from edge.feedback import states as feedback_states
from edge.intake.receipt import receipt_page
from edge.kernel import csrf, transport
from edge.kernel.auth import sessions, throttle
from edge.kernel.auth.account import Account, by_phone
from edge.kernel.auth.forms import is_mobile
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_phone
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.me import codes, queries
from edge.node import edge_node
from edge.seals.certificate_page import certificate_page, not_found, sealed_certificate
from edge.sms.outbox import enqueue

RESIDENT = "resident"
NO_PASSWORD = "!"  # never a valid hash: a resident account signs in by code only
CODE_LOCALE = "zh_Hans"


def _phone(value: Any) -> str:
    return str(value or "").strip().replace(" ", "")


def _login_page(request: Request, phone: str, error: str, status: int = 200) -> Response:
    context = {"phone": phone, "error": error, "sent": False}
    return render(request, "edge/me/login.html", context, status_code=status)


async def login_page(request: Request) -> Response:
    """Ask for the phone number the applications were made with."""
    return _login_page(request, "", "")


async def send_code(request: Request) -> Response:
    """Text a six-digit code to the phone (one a minute), then ask for it."""
    node = edge_node(request)
    phone = _phone((await request.form()).get("phone"))
    if not is_mobile(phone):
        return _login_page(request, phone, _("请填写11位手机号码。"), 400)
    async with node.db.write() as db:
        account = await by_phone(db, phone)
        if account is not None and account["role"] != RESIDENT:
            message = _("工作人员请用密码登录。")
            return _login_page(request, phone, message, 400)
        now = node.clock()
        code = await codes.issue(db, phone, now)
        if code is not None:
            await enqueue(
                db,
                phone=phone,
                template="login_code",
                params={"code": code},
                locale=CODE_LOCALE,
                now=now,
            )
    context = {"phone": phone, "shown": mask_phone(phone), "error": "", "sent": True}
    return render(request, "edge/me/login.html", context)


async def check_code(request: Request) -> Response:
    """Sign in with the code: the resident's account is made on the first sign-in."""
    node = edge_node(request)
    form = await request.form()
    phone, code = _phone(form.get("phone")), str(form.get("code", "")).strip()
    context = {"phone": phone, "shown": mask_phone(phone), "sent": True}
    if not is_mobile(phone):
        return _login_page(request, phone, _("请填写11位手机号码。"), 400)
    attempt = await throttle.attempt(node, request, f"me:{phone}", per_source_key=True)
    turn = await throttle.wait_turn(node, attempt)
    now = node.clock()
    if turn.check is None:
        status, message = throttle.refusal(turn.locked_until, now)
        page = render(
            request, "edge/me/login.html", context | {"error": message}, status_code=status
        )
        return throttle.refused(page, turn.locked_until, now)
    async with node.db.write() as db:
        if not await codes.redeem(db, phone, code, now):
            until = await throttle.failed(node, db, turn.check, attempt, now)
            error = _("验证码不对或已过期，请重新获取。")
            page = render(
                request, "edge/me/login.html", context | {"error": error}, status_code=401
            )
            return throttle.refused(page, until, now) if until else page
        await throttle.succeeded(db, turn.check, attempt, now)
        account = await by_phone(db, phone)
        account_id = account["id"] if account is not None else None
        if account_id is None:
            account_id = await accounts.create(
                db,
                phone=phone,
                name=_("居民"),
                role=RESIDENT,
                jurisdiction_code=node.settings.township_code,
                department_code=None,
                password_hash=NO_PASSWORD,
                now=stamp(now),
            )
        old = request.cookies.get(sessions.SESSION_COOKIE)
        if old:
            await sessions.end(db, old)
        web = node.settings.web
        token = await sessions.start(db, account_id, stamp(now), web.session_hours)
    response = RedirectResponse(path_for(request, "me:index"), status_code=303)
    secure = transport.secure(request.scope)
    sessions.set_session_cookie(response, token, secure=secure, hours=web.session_hours)
    return throttle.keep_device(response, attempt, secure=secure)


def _resident(request: Request) -> Account | None:
    account = request.scope.get("account")
    return account if account is not None and account.role == RESIDENT else None


def _not_mine() -> HTTPException:
    return HTTPException(status_code=404, detail=_("没有找到这件申请。"))


async def index(request: Request) -> Response:
    """My applications and items; signed out, the sign-in page."""
    account = _resident(request)
    if account is None:
        return RedirectResponse(path_for(request, "me:login"), status_code=303)
    async with edge_node(request).db.read() as db:
        mine = await queries.applications(db, account.phone)
        items = await queries.feedback(db, account.phone)
    context = {
        "applications": mine,
        "items": items,
        "status_label": states.label,
        "feedback_label": feedback_states.label,
        "format_code": format_code,
        "shown": mask_phone(account.phone),
    }
    return render(request, "edge/me/index.html", context)


async def receipt(request: Request) -> Response:
    """The resident's own receipt, printable; anyone else's is not found."""
    account = _resident(request)
    if account is None:
        return RedirectResponse(path_for(request, "me:login"), status_code=303)
    async with edge_node(request).db.read() as db:
        app = await applications.application(db, request.path_params["application_id"])
        if app is None or app.applicant_phone != account.phone:
            raise _not_mine()
        steps = await applications.steps(db, app.id)
        attachments = await applications.attachments(db, app.id)
    back = path_for(request, "me:index")
    return await receipt_page(request, app, steps, attachments, back=back, mine=True)


async def certificate(request: Request) -> Response:
    """The resident's own village certificate, printable; anyone else's is not found."""
    account = _resident(request)
    if account is None:
        return RedirectResponse(path_for(request, "me:login"), status_code=303)
    seal_id = request.path_params["seal_id"]
    async with edge_node(request).db.read() as db:
        found = await sealed_certificate(db, seal_id)
    if found is None or found[1].applicant_phone != account.phone:
        raise not_found()
    result, app = found
    return await certificate_page(request, seal_id, result, app, back=path_for(request, "me:index"))


routes = [
    Route("/me", index, methods=["GET"], name="me:index"),
    Route("/me/login", login_page, methods=["GET"], name="me:login"),
    Route("/me/login", csrf.protected(send_code), methods=["POST"], name="me:send_code"),
    Route("/me/code", csrf.protected(check_code), methods=["POST"], name="me:check_code"),
    Route("/me/applications/{application_id}/receipt", receipt, methods=["GET"], name="me:receipt"),
    Route("/me/certificates/{seal_id}", certificate, methods=["GET"], name="me:certificate"),
]
