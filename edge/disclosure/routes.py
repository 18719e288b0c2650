"""/disclosure/ (index), /disclosure/results (+ its sheet), and staff withholding of a case."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.applications import queries as applications
from edge.applications.access import can_view
from edge.applications.records import Application
from edge.applications.tracking_code import format_code
from edge.audit.log import append as audit
from edge.disclosure import queries
from edge.disclosure.forms import parse_filter, parse_withhold
from edge.disclosure.labels import DECISIONS, WITHHOLD_REASONS
from edge.disclosure.results import DECIDED, ResultFilter, pages, public_cases
from edge.disclosure.sheet import SealedSheet, Sheet, existing, sealed
from edge.jurisdictions import queries as places
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name
from edge.kernel.templating import render
from edge.kernel.urls import path_for, public_url
from edge.node import edge_node
from edge.workdays.local import local_today

WITHHOLD_ROLES = ("township_staff",)
SHEET_OFFICE = "township"  # sheets carry the township's seal, the key its decisions use
SHEET_YEARS = 5  # how far back a month's results sheet may be printed


async def index(request: Request) -> Response:
    """The sections of this township's public disclosure."""
    return render(request, "edge/disclosure/index.html", {"ratings_page": "ratings:disclosure"})


async def _filters(request: Request) -> tuple[list, list, ResultFilter]:
    node = edge_node(request)
    async with node.db.read() as db:
        villages = await places.villages_of(db, node.settings.township_code)
        items = await queries.decided_items(db)
    wanted = parse_filter(
        request.query_params, {v["code"] for v in villages}, {i["code"] for i in items}
    )
    return villages, items, wanted


async def results(request: Request) -> Response:
    """Decided cases of this township, newest first, masked; filters by GET, paginated."""
    villages, items, wanted = await _filters(request)
    async with edge_node(request).db.read() as db:
        rows, total = await queries.cases(db, wanted)
    return render(
        request,
        "edge/disclosure/results.html",
        {
            "cases": public_cases(rows),
            "total": total,
            "pages": pages(total),
            "villages": villages,
            "items": items,
            "wanted": wanted,
            "decisions": DECISIONS,
            "sheet_route": "disclosure:results_sheet",
        },
    )


async def print_sheet(request: Request, sheet: Sheet, back: str) -> Response:
    """Any disclosure as a sealed A4 sheet: sealed the first time this content is printed."""
    node = edge_node(request)
    async with node.db.read() as db:
        found = await existing(db, sheet)
    if found is None:
        async with node.db.write() as db:
            found = await sealed(
                db, node.settings.keys_dir, SHEET_OFFICE, sheet, stamp(node.clock())
            )
    return _sheet_page(request, found, back)


def _sheet_page(request: Request, found: SealedSheet, back: str) -> Response:
    return render(
        request,
        "edge/disclosure/sheet.html",
        {
            "sealed": found,
            "qr": found.sheet.qr_svg(),
            "verify_url": public_url(request, "seals:verify", seal_id=found.seal_id),
            "back": back,
        },
    )


def _printable(request: Request, month: str) -> bool:
    """A month whose sheet may be printed (and so sealed on its first print): begun, and
    within SHEET_YEARS; this bounds what a crawler's public GETs can make the node seal."""
    node = edge_node(request)
    today = local_today(node.clock(), node.settings.web.timezone)
    first = f"{today.year - SHEET_YEARS:04d}-{today.month:02d}"
    return first <= month <= today.isoformat()[:7]


async def results_sheet(request: Request) -> Response:
    """A month's results for one village, as the notice-board sheet."""
    villages, _items, wanted = await _filters(request)
    if not (wanted.village and wanted.month):
        raise HTTPException(status_code=400, detail=_("请先选择村和月份，再打印公开栏。"))
    if not _printable(request, wanted.month):
        detail = _("只能打印近%(years)s年内已经开始的月份。") % {"years": SHEET_YEARS}
        raise HTTPException(status_code=400, detail=detail)
    village = next(v for v in villages if v["code"] == wanted.village)
    month = ResultFilter(village=wanted.village, month=wanted.month, page=1)
    async with edge_node(request).db.read() as db:
        rows, _total = await queries.cases(db, month)
    query = f"?village={wanted.village}&month={wanted.month}"
    sheet = Sheet(
        title=f"办理结果公开（{wanted.month}）",
        village=village["name_zh"],
        period=wanted.month,
        lines=tuple(case.line() for case in public_cases(rows)) or ("本月没有办结的事项。",),
        online=public_url(request, "disclosure:results") + query,
    )
    return await print_sheet(request, sheet, path_for(request, "disclosure:results") + query)


async def _decided_file(request: Request, account: Account) -> Application:
    async with edge_node(request).db.read() as db:
        app = await applications.application(db, request.path_params["application_id"])
    if app is None or not can_view(account, app.village_code, app.item.route_departments):
        raise HTTPException(status_code=404, detail=_("没有找到这件申请。"))
    if app.status not in DECIDED:
        raise HTTPException(status_code=409, detail=_("这件申请还没有办结，办结后才会公开。"))
    return app


async def withholding_page(request: Request) -> Response:
    """Whether a decided case is published, and the form to withhold or release it."""
    account = require(request, *WITHHOLD_ROLES)
    app = await _decided_file(request, account)
    return await _withholding_page(request, app, {}, {})


async def _withholding_page(
    request: Request, app: Application, values: dict[str, str], errors: dict[str, str]
) -> Response:
    async with edge_node(request).db.read() as db:
        row = await queries.withholding(db, app.id)
    return render(
        request,
        "edge/disclosure/withhold.html",
        {
            "app": app,
            "code": format_code(app.tracking_code),
            "applicant": mask_name(app.applicant_name),
            "withheld": row is not None and row["released_at"] is None,
            "row": row,
            "reasons": WITHHOLD_REASONS,
            "values": values,
            "errors": errors,
            "key": str(ULID()),
        },
        status_code=400 if errors else 200,
    )


async def withhold(request: Request) -> Response:
    """Withhold a case from publication with a reason, or release it; audit-logged, once."""
    account = require(request, *WITHHOLD_ROLES)
    app = await _decided_file(request, account)
    node = edge_node(request)
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    values, errors = parse_withhold(form)
    if errors:
        return await _withholding_page(request, app, values, errors)
    url = path_for(request, "disclosure:withholding", application_id=app.id)
    digest = idempotency.request_hash({"application": app.id, **values})
    at = stamp(node.clock())
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is None:
                if values["action"] == "withhold":
                    await queries.withhold(
                        db, app.id, values["reason"], values["note"], account.id, at
                    )
                    result = values["reason"]
                else:
                    result = "ok" if await queries.release(db, app.id, account.id, at) else "noop"
                await audit(
                    db,
                    node.settings.keys_dir,
                    actor_id=account.id,
                    role=account.role,
                    jurisdiction_code=account.jurisdiction_code,
                    action=f"{values['action']}_disclosure",
                    object_type="application",
                    object_id=app.id,
                    result=result,
                    at=at,
                )
                await idempotency.remember(
                    db, key, account.id, digest, idempotency.Result("application", app.id), at
                )
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return RedirectResponse(url, status_code=303)


routes = [
    Route("/disclosure/", index, methods=["GET"], name="disclosure:index"),
    Route("/disclosure/results", results, methods=["GET"], name="disclosure:results"),
    Route(
        "/disclosure/results/sheet", results_sheet, methods=["GET"], name="disclosure:results_sheet"
    ),
    Route(
        "/staff/applications/{application_id}/disclosure",
        withholding_page,
        methods=["GET"],
        name="disclosure:withholding",
    ),
    Route(
        "/staff/applications/{application_id}/disclosure",
        csrf.protected(withhold),
        methods=["POST"],
        name="disclosure:withhold",
    ),
]
