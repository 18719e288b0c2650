"""/agent/...: the agent's queue, the intake form, the receipt, supplements and withdrawals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.accounts.placement import kept_placement
from edge.agent_outbox.received import settled
from edge.applications import eligibility, lifecycle, queries, states
from edge.applications.context import context_for, working_days_for
from edge.applications.eform import parse_applicant, parse_fields
from edge.applications.lifecycle import Applicant
from edge.applications.records import Application, Step
from edge.applications.tracking_code import format_code
from edge.audit.log import append as audit
from edge.catalog import queries as catalog
from edge.catalog.filters import catalog_filter
from edge.catalog.item import CatalogItem
from edge.catalog.labels import LABELS
from edge.catalog.routes import item_or_404
from edge.intake.receipt import receipt_page
from edge.intake.uploads import (
    MAX_FORM_BYTES,
    keep_for_retry,
    material_uploads,
    owned,
    record_blobs,
    signature_upload,
    token_of,
)
from edge.intake.village_list import listed
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.errors import wants_json
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick
from edge.kernel.masking import mask_name
from edge.kernel.request_limits import allow_body
from edge.kernel.templating import render
from edge.kernel.urls import done_url, path_for
from edge.node import edge_node

NO_STORE = {"Cache-Control": "no-store"}


def _agent(request: Request) -> Account:
    return require(request, "agent")


async def agent_home(request: Request) -> Response:
    """The village's applications, those returned for supplement first."""
    agent = _agent(request)
    async with edge_node(request).db.read() as db:
        rows = await queries.village_applications(db, agent.jurisdiction_code)
        place = await kept_placement(edge_node(request).db, db, agent)
    return render(
        request,
        "edge/intake/home.html",
        {"rows": listed(request, rows), "placement": place},
    )


async def choose_item(request: Request) -> Response:
    """Which service the resident came for: searched and filtered like the public guide (or
    only the list, when htmx refreshes it while the agent types)."""
    _agent(request)
    async with edge_node(request).db.read() as db:
        departments = await catalog.departments(db)
        wanted = catalog_filter(request.query_params, (d["code"] for d in departments))
        items = await catalog.search(db, wanted)
    context = {"items": items, "departments": departments, "wanted": wanted}
    return render(request, "edge/intake/choose.html", context, fragment="edge/intake/_choices.html")


def _form_page(
    request: Request,
    item: CatalogItem,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    context = {"item": item, "values": values, "errors": errors, "labels": LABELS}
    return render(request, "edge/intake/form.html", context, status_code=status)


async def intake_form(request: Request) -> Response:
    """An empty application form with a fresh idempotency key."""
    _agent(request)
    item = await item_or_404(request)
    values: dict[str, Any] = {
        "key": str(ULID()),
        "applicant": {},
        "fields": {},
        "kept": {},
        "resident": None,
        "today": None,
    }
    return _form_page(request, item, values, {})


def _labels(item: CatalogItem) -> dict[str, str]:
    """What the intake form calls each field a problem may be about."""
    return {
        "id_number": _("申请人身份证号码"),
        "name": _("申请人姓名"),
        "phone": _("申请人手机号码"),
        "signature": _("申请人签名"),
        **{f"f_{f.name}": pick(f.label.zh, f.label.en) for f in item.fields},
        **{f"m_{m.key}": pick(m.name.zh, m.name.en) for m in item.materials},
    }


def _named(problems: dict[str, str], item: CatalogItem) -> dict[str, str]:
    """Each problem prefixed with its field's name, for lists shown away from the form (the
    agent's outbox): "家庭人口：不能小于 1。", not "不能小于 1。"."""
    labels = _labels(item)
    return {
        key: _("%(field)s：%(problem)s") % {"field": labels[key], "problem": message}
        if key in labels
        else message
        for key, message in problems.items()
    }


@allow_body(MAX_FORM_BYTES)
async def submit_intake(request: Request) -> Response:
    """Check everything; store photos; accept once per key; answer only after commit."""
    agent = _agent(request)
    item = await item_or_404(request)
    node = edge_node(request)
    form = await settled(node, agent.id, await request.form())  # photos sent ahead, re-encoded
    async with node.db.read() as db:
        today = (await working_days_for(request, db)).today
        staged = await owned(db, agent.id, form)
    applicant, errors, resident = parse_applicant(form, today)
    fields, field_errors = parse_fields(item.fields, form, today)
    uploads, photo_errors = await material_uploads(
        node.blobs, form, item.materials, require=True, owned=staged
    )
    signature, signature_error = await signature_upload(node.blobs, form, staged)
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    birth = resident.birth_date if resident else None
    problems = {
        **eligibility.problems(item, birth, fields, today),
        **errors,
        **{f"f_{k}": v for k, v in field_errors.items()},
        **{f"m_{k}": v for k, v in photo_errors.items()},
    }
    if signature_error:
        problems["signature"] = signature_error
    if problems:  # a retry whose first try was accepted may no longer pass (date, catalog)
        async with node.db.read() as db:
            done = await idempotency.earlier_result(db, key, agent.id)
        if done:
            if wants_json(request):
                return await _accepted(request, done.id)
            return _see(_receipt_path(request, done.id))
    if problems and wants_json(request):  # the outbox shows these and keeps the application
        body = {"errors": _named(problems, item)}
        return JSONResponse(body, status_code=400, headers=NO_STORE)
    if problems:
        shown = [*uploads, signature] if signature else uploads
        async with node.db.write() as db:
            await keep_for_retry(db, agent.id, shown, stamp(node.clock()))
        kept = {u.material_key: token_of(u) for u in uploads}
        if signature:
            kept["signature"] = token_of(signature)
        values = {
            "key": key,
            "applicant": applicant,
            "fields": fields,
            "kept": kept,
            "resident": resident,
            "today": today,
        }
        return _form_page(request, item, values, problems, 400)
    assert signature is not None
    all_uploads = [*uploads, signature]
    digest = idempotency.request_hash(
        {
            "item": item.code,
            "applicant": applicant,
            "fields": fields,
            "uploads": sorted(u.sha256 for u in all_uploads),
        }
    )
    try:
        async with node.db.write() as db:
            result = await idempotency.replay(db, key, agent.id, digest)
            if result is None:
                for upload in all_uploads:
                    await record_blobs(db, node.blobs, upload, stamp(node.clock()))
                ctx = await context_for(request, db, agent)
                application_id = await lifecycle.submit(
                    db,
                    ctx,
                    item=item,
                    village_code=agent.jurisdiction_code,
                    applicant=Applicant(**applicant),
                    form_data=fields,
                    uploads=all_uploads,
                )
                result = idempotency.Result("application", application_id)
                await idempotency.remember(db, key, agent.id, digest, result, ctx.at)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await run_in_threadpool(node.wake_worker)  # photos to upload, an SMS to send: now
    if wants_json(request):
        return await _accepted(request, result.id)
    return _see(_receipt_path(request, result.id))


def _see(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _receipt_path(request: Request, application_id: str) -> str:
    return path_for(request, "intake:receipt", application_id=application_id)


async def _accepted(request: Request, application_id: str) -> Response:
    """For the outbox: the receipt's address and tracking code of the accepted application."""
    async with edge_node(request).db.read() as db:
        app = await queries.application(db, application_id)
    assert app is not None
    body = {
        "url": _receipt_path(request, application_id),
        "tracking_code": format_code(app.tracking_code),
    }
    return JSONResponse(body, headers=NO_STORE)


async def id_check(request: Request) -> Response:
    """htmx: birth date, age and sex from the ID number as the agent types it."""
    _agent(request)
    form = await request.form()
    async with edge_node(request).db.read() as db:
        today = (await working_days_for(request, db)).today
    _values, errors, resident = parse_applicant(form, today)
    return render(
        request,
        "edge/intake/_id_info.html",
        {"resident": resident, "today": today, "error": errors.get("id_number", "")},
    )


async def _own(
    request: Request, agent: Account
) -> tuple[Application, list[Step], list[Any], list[Any]]:
    async with edge_node(request).db.read() as db:
        app = await queries.application(db, request.path_params["application_id"])
        if app is None or app.village_code != agent.jurisdiction_code:
            raise HTTPException(status_code=404, detail=_("没有找到这件申请。"))
        return (
            app,
            await queries.steps(db, app.id),
            await queries.attachments(db, app.id),
            await queries.supplements(db, app.id),
        )


async def receipt(request: Request) -> Response:
    """The printable receipt: tracking code, QR, masked applicant, materials, promised date."""
    agent = _agent(request)
    app, steps, attachments, _supplements = await _own(request, agent)
    return await receipt_page(
        request, app, steps, attachments, back=path_for(request, "intake:home"), mine=False
    )


def _application_page(
    request: Request,
    app: Application,
    steps: list[Step],
    supplements: list[Any],
    errors: dict[str, str],
    key: str,
    status: int = 200,
    seals: list[Any] | None = None,
) -> Response:
    page = render(
        request,
        "edge/intake/application.html",
        {
            "certificates": [s for s in seals or [] if s["kind"] == "village_certificate"],
            "app": app,
            "item": app.item,
            "steps": steps,
            "supplements": supplements,
            "code": format_code(app.tracking_code),
            # the village's own agent calls the applicant (about a supplement, a pick-up):
            # full name and phone, the read audited, the page never stored (agent_application)
            "applicant": app.applicant_name,
            "phone": app.applicant_phone,
            "status_label": states.label,
            "withdraw_reasons": states.WITHDRAW_REASONS,
            "asked": _asked(supplements),
            "errors": errors,
            "key": key,
        },
        status_code=status,
    )
    page.headers["Cache-Control"] = "no-store"  # the applicant's name and phone
    return page


async def agent_application(request: Request) -> Response:
    """One application of my village: where it is, what was asked for, what I can do, and the
    applicant's name and phone to call them; the read is audited and the page never stored."""
    agent = _agent(request)
    app, steps, _attachments, supplements = await _own(request, agent)
    node = edge_node(request)
    async with node.db.write() as db:
        await audit(
            db,
            node.settings.keys_dir,
            actor_id=agent.id,
            role=agent.role,
            jurisdiction_code=agent.jurisdiction_code,
            action="read_personal_data",
            object_type="application",
            object_id=app.id,
            result="ok",
            at=stamp(node.clock()),
        )
        seals = await queries.seals_of(db, app.id)
    return _application_page(request, app, steps, supplements, {}, str(ULID()), seals=seals)


def _asked(supplements: list[Any]) -> list[str]:
    open_requests = [s for s in supplements if s["resolved_at"] is None]
    return open_requests[0]["material_keys"] if open_requests else []


@allow_body(MAX_FORM_BYTES)
async def supplement(request: Request) -> Response:
    """Upload what was asked for and send the application back on its way."""
    agent = _agent(request)
    app, steps, _attachments, supplements = await _own(request, agent)
    form = await settled(edge_node(request), agent.id, await request.form())
    async with edge_node(request).db.read() as db:
        done = await idempotency.earlier_result(db, str(form.get("idempotency_key", "")), agent.id)
    if done:  # a retry after the first post committed: same answer, nothing new
        url = path_for(request, "intake:application", application_id=done.id)
        return RedirectResponse(done_url(url, "resubmitted"), status_code=303)
    # every material asked for must come back, even one the catalog marks optional
    asked = [replace(m, required=True) for m in app.item.materials if m.key in _asked(supplements)]
    async with edge_node(request).db.read() as db:
        staged = await owned(db, agent.id, form)
    uploads, errors = await material_uploads(
        edge_node(request).blobs, form, asked, require=True, owned=staged
    )
    if errors:
        key = str(form.get("idempotency_key", ""))
        return _application_page(request, app, steps, supplements, errors, key, 400)
    return await _change(request, agent, app.id, "resubmit", uploads)


async def confirm_withdrawal(request: Request) -> Response:
    """Ask before a withdrawal, which cannot be undone, and why the applicant withdraws."""
    agent = _agent(request)
    app, *_rest = await _own(request, agent)
    return _withdrawal_page(request, app, "", str(ULID()), {})


def _withdrawal_page(
    request: Request,
    app: Application,
    reason: str,
    key: str,
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    context = {
        "app": app,
        "code": format_code(app.tracking_code),
        "applicant": mask_name(app.applicant_name),
        "reasons": states.WITHDRAW_REASONS,
        "reason": reason,
        "key": key,
        "errors": errors,
    }
    return render(request, "edge/intake/withdraw.html", context, status_code=status)


async def withdraw(request: Request) -> Response:
    """The applicant withdraws through the agent, for a reason chosen on the confirmation page."""
    agent = _agent(request)
    app, *_rest = await _own(request, agent)
    form = await request.form()
    reason = str(form.get("reason", ""))
    if reason not in states.WITHDRAW_REASONS:
        key = str(form.get("idempotency_key", ""))
        errors = {"reason": _("请选择撤回的原因。")}
        return _withdrawal_page(request, app, reason, key, errors, 400)
    return await _change(request, agent, app.id, "withdraw", [], reason)


async def _change(
    request: Request,
    agent: Account,
    application_id: str,
    action: str,
    uploads: list[lifecycle.Upload],
    reason: str = "",
) -> Response:
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    digest = idempotency.request_hash(
        {
            "action": action,
            "application": application_id,
            "uploads": [u.sha256 for u in uploads],
            "reason": reason,
        }
    )
    node = edge_node(request)
    url = done_url(
        path_for(request, "intake:application", application_id=application_id),
        "withdrawn" if action == "withdraw" else "resubmitted",
    )
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, agent.id, digest) is None:
                for upload in uploads:
                    await record_blobs(db, node.blobs, upload, stamp(node.clock()))
                ctx = await context_for(request, db, agent)
                if action == "resubmit":
                    await lifecycle.resubmit(db, ctx, application_id, uploads)
                else:
                    await lifecycle.withdraw(db, ctx, application_id, reason)
                result = idempotency.Result("application", application_id)
                await idempotency.remember(db, key, agent.id, digest, result, ctx.at)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except states.IllegalTransition as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await run_in_threadpool(node.wake_worker)
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/agent/", agent_home, methods=["GET"], name="intake:home"),
    Route("/agent/apply", choose_item, methods=["GET"], name="intake:choose"),
    Route("/agent/apply/{code}", intake_form, methods=["GET"], name="intake:form"),
    Route(
        "/agent/apply/{code}", csrf.protected(submit_intake), methods=["POST"], name="intake:submit"
    ),
    Route("/agent/id-check", csrf.protected(id_check), methods=["POST"], name="intake:id_check"),
    Route(
        "/agent/applications/{application_id}",
        agent_application,
        methods=["GET"],
        name="intake:application",
    ),
    Route(
        "/agent/applications/{application_id}/receipt",
        receipt,
        methods=["GET"],
        name="intake:receipt",
    ),
    Route(
        "/agent/applications/{application_id}/supplement",
        csrf.protected(supplement),
        methods=["POST"],
        name="intake:supplement",
    ),
    Route(
        "/agent/applications/{application_id}/withdraw",
        confirm_withdrawal,
        methods=["GET"],
        name="intake:confirm_withdrawal",
    ),
    Route(
        "/agent/applications/{application_id}/withdraw",
        csrf.protected(withdraw),
        methods=["POST"],
        name="intake:withdraw",
    ),
]
