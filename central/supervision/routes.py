"""/supervision/... at central: the city's and counties' 电子监察 over every township's rows,
scoped by jurisdiction (city admin: the city; county supervisor: the county) and, for a
department head, by department; the same figures, cases and assessment as at an edge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from central.node import central_node
from central.supervision import queries
from central.supervision.urging import urge as send_urge
from edge.applications import states
from edge.applications.tracking_code import format_code
from edge.jurisdictions.codes import contains, is_code, prefix_of
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name
from edge.kernel.templating import render
from edge.kernel.text_input import text_problem
from edge.kernel.urls import path_for
from edge.supervision import assessment_page, dashboard
from edge.supervision import queries as names_queries
from edge.supervision.cards import CardRule
from edge.supervision.forms import parse_period
from edge.supervision.rules import load_rules
from edge.supervision.sources import CENTRAL_TABLES, Scope, clock_for, load
from edge.supervision.statistics import Period
from edge.workdays.arithmetic import CARD_LABELS
from edge.workdays.local import local_today

VIEWERS = ("central_admin", "supervisor", "officer")
URGERS = ("central_admin", "supervisor")  # a city admin or a county supervisor sends 催办
NOTE_LENGTH = 200


async def _viewer(request: Request) -> tuple[Account, str | None]:
    """The account and the department it is limited to (a department head's); officers who
    head no department may not look."""
    account = require(request, *VIEWERS)
    if account.role != "officer":
        return account, None
    async with central_node(request).db.read() as db:
        if not await queries.is_head(db, account.id):
            raise HTTPException(status_code=403, detail=_("您的账号没有权限访问此页面。"))
    return account, account.department_code


def _today(request: Request) -> date:
    node = central_node(request)
    return local_today(node.clock(), node.settings.web.timezone)


def _rule(request: Request) -> CardRule:
    days = central_node(request).settings.warning_working_days
    return CardRule(days, load_rules().yellow_share)


def _unit(request: Request, account: Account) -> str:
    unit = request.query_params.get("unit", account.jurisdiction_code)
    if not is_code(unit) or not contains(account.jurisdiction_code, unit):
        raise HTTPException(status_code=404, detail=_("没有找到这个单位，或不在您的管辖范围内。"))
    return unit


async def _load(
    request: Request, unit: str, head_of: str | None, period: Period, people: bool = True
) -> tuple[Any, list[Any], dashboard.Names]:
    node = central_node(request)
    async with node.db.read() as db:
        clock = await clock_for(db, _today(request), period.since, _rule(request))
        facts = await load(
            db, CENTRAL_TABLES, Scope(prefix_of(unit), head_of), period, node.settings.web.timezone
        )
        names = dashboard.Names(
            await names_queries.jurisdiction_names(db, prefix_of(unit)[:4]),
            await names_queries.department_names(db),
            await queries.people(db) if people else {},
        )
    return clock, facts, names


async def page(request: Request) -> Response:
    """Figures by county, township, village; by department; inside a department by officer."""
    account, head_of = await _viewer(request)
    unit = _unit(request, account)
    department = head_of or request.query_params.get("department") or None
    period, errors = parse_period(request.query_params, _today(request))
    clock, facts, names = await _load(request, unit, head_of, period)
    if department and department not in names.departments:
        raise HTTPException(status_code=404, detail=_("没有找到这个部门。"))
    tables = dashboard.tables_for(facts, period, clock, unit, names, department, head_of)
    if request.query_params.get("format") == "csv":
        wanted = request.query_params.get("table")
        return dashboard.csv_response(
            next((t for t in tables if t.name == wanted), tables[0]), unit
        )
    return render(
        request,
        "central/supervision/dashboard.html",
        {
            **dashboard.shown(period, errors),
            "unit": unit,
            "unit_label": names.place(unit),
            "parent": None if unit == account.jurisdiction_code else dashboard.parent_of(unit),
            "department": department if not head_of else None,
            "department_label": names.department(department) if department else "",
            "tables": tables,
            "charts": {t.name: dashboard.on_time_chart(t) for t in tables if t.rows},
            "queue_url": None,
        },
    )


async def cases(request: Request) -> Response:
    """The cases behind one count, from every township in scope."""
    account, head_of = await _viewer(request)
    unit = _unit(request, account)
    measure = request.query_params.get("measure", "")
    if measure not in dashboard.COUNTS:
        raise HTTPException(status_code=404, detail=_("没有这项统计。"))
    department = head_of or request.query_params.get("department") or None
    officer = request.query_params.get("officer") or None
    period, errors = parse_period(request.query_params, _today(request))
    clock, facts, names = await _load(request, unit, head_of, period)
    found = dashboard.cases(facts, period, clock, measure, department, officer)
    shown = found[:200]
    async with central_node(request).db.read() as db:
        details = await queries.case_rows(db, sorted({(c.app.node, c.app.id) for c in shown}))
    return render(
        request,
        "central/supervision/cases.html",
        {
            **dashboard.shown(period, errors),
            "unit": unit,
            "unit_label": names.place(unit),
            "department_label": names.department(department) if department else "",
            "officer_label": names.person(officer) if officer else "",
            "measure_label": dashboard.MEASURE_LABELS[measure],
            "found": found,
            "shown": shown,
            "detail_of": lambda case: details.get((case.app.node, case.app.id)),
            "names": names,
            "card_of": lambda case: (
                clock.step_card(case.step, case.app.status)
                if case.step
                else clock.application_card(case.app)
            ),
            "card_labels": CARD_LABELS,
            "format_code": format_code,
            "mask_name": mask_name,
            "step_url": lambda step: path_for(
                request, "supervision:step", node_id=step.node, step_id=step.id
            ),
        },
    )


def _open(step: Any) -> bool:
    return bool(step["status"] == "active" and step["app_status"] == "in_review")


def _reminders(
    central: list[dict[str, Any]], township: list[dict[str, Any]], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Central's reminders and the township's, oldest first; the township's copy of one central
    sent is shown once (central's, which knows whether it arrived)."""
    sent_here = {r["id"] for r in central}
    merged = central + [r for r in township if r["id"] not in sent_here]
    merged.sort(key=lambda r: r["sent_at"])
    for reminder in merged:
        reminder["at"] = (
            datetime.fromisoformat(reminder["sent_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        )
    return merged


async def _step_page(
    request: Request, account: Account, head_of: str | None, **extra: Any
) -> Response:
    node_id, step_id = request.path_params["node_id"], request.path_params["step_id"]
    node = central_node(request)
    zone = ZoneInfo(node.settings.web.timezone)
    async with node.db.read() as db:
        step = await queries.step(db, node_id, step_id)
        if (
            step is None
            or not contains(account.jurisdiction_code, step["village_code"])
            or (head_of and step["department_code"] != head_of)
        ):
            raise HTTPException(status_code=404, detail=_("没有找到这个办理环节。"))
        steps = await queries.steps_of(db, node_id, step["application_id"])
        supplements = await queries.supplements_of(db, node_id, step["application_id"])
        reminders = _reminders(
            await queries.central_reminders_of(db, node_id, step["application_id"]),
            await queries.reminders_of(db, node_id, step["application_id"]),
            zone,
        )
        clock = await clock_for(db, _today(request), _today(request), _rule(request))
    card = "green"
    if step["due_on"] and _open(step):
        card = clock.rule.card(
            date.fromisoformat(step["due_on"]), step["days"], clock.today, clock.index
        )
    file_url = None
    if account.role == "officer" and step["level"] == "county":
        file_url = path_for(
            request, "officer:application", node_id=node_id, application_id=step["application_id"]
        )
    return render(
        request,
        "central/supervision/step.html",
        {
            "step": step,
            "steps": steps,
            "supplements": supplements,
            "reminders": reminders,
            "card": card,
            "card_labels": CARD_LABELS,
            "status_label": states.label,
            "code": format_code(step["tracking_code"]),
            "applicant": mask_name(step["applicant_name"]),
            "file_url": file_url,
            "may_urge": account.role in URGERS and step["level"] == "county" and _open(step),
            "urge_url": path_for(request, "supervision:urge", node_id=node_id, step_id=step_id),
            "urge_by_sms_only": True,
            "urged_at_central": False,  # this is central
            "key": str(ULID()),
            "values": {},
            "errors": {},
            **extra,
        },
        status_code=400 if extra.get("errors") else 200,
    )


async def step_page(request: Request) -> Response:
    """A township's step as central sees it: card, the file's steps, returns and reminders
    (the township's and central's), and for a county step the 催办 form."""
    account, head_of = await _viewer(request)
    return await _step_page(request, account, head_of)


async def urge(request: Request) -> Response:
    """A city admin's or county supervisor's 催办 of a county step: SMS to the central officers
    who may decide it, recorded, sent to the township, audited; once per idempotency key."""
    account = require(request, *URGERS)
    node = central_node(request)
    node_id, step_id = request.path_params["node_id"], request.path_params["step_id"]
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    note = str(form.get("note", "")).strip()
    url = path_for(request, "supervision:step", node_id=node_id, step_id=step_id)
    problem = text_problem(note, multiline=True)
    if problem is not None or len(note) > NOTE_LENGTH:
        errors = {"note": problem or _("附言最多 %(n)d 个字。") % {"n": NOTE_LENGTH}}
        return await _step_page(request, account, None, values={"note": note}, errors=errors)
    digest = idempotency.request_hash({"node": node_id, "step": step_id, "note": note})
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is not None:
                return RedirectResponse(url, status_code=303)
            step = await queries.step(db, node_id, step_id)
            if step is None or not contains(account.jurisdiction_code, step["village_code"]):
                raise HTTPException(status_code=404, detail=_("没有找到这个办理环节。"))
            if step["level"] != "county" or not _open(step):
                errors = {"note": _("这个环节已不在办理中，无需催办。")}
            else:
                now = node.clock()
                reminder = await send_urge(db, node.settings.keys_dir, step, account, note, now)
                result = idempotency.Result("reminder", reminder)
                await idempotency.remember(db, key, account.id, digest, result, stamp(now))
                return RedirectResponse(url, status_code=303)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return await _step_page(request, account, None, values={"note": note}, errors=errors)


async def _assessment(request: Request, unit: str, head_of: str | None, internal: bool) -> Response:
    """人机考核 of the last whole month or quarter, as a page or, with `format=csv`, one of
    its tables."""
    kind, period = assessment_page.period_of(request, _today(request))
    clock, facts, names = await _load(request, unit, head_of, period, people=internal)
    rules = load_rules()
    views = dashboard.assessment_views(facts, period, clock, unit, names, rules, internal)
    return assessment_page.answer(
        request, "central/supervision/assessment.html", kind, period, views, rules, unit, internal
    )


async def assessment(request: Request) -> Response:
    """人机考核 (internal view): counties/townships and departments; officers for the city
    admin and county supervisors."""
    account, head_of = await _viewer(request)
    internal = account.role in ("central_admin", "supervisor")
    return await _assessment(request, account.jurisdiction_code, head_of, internal)


async def published(request: Request) -> Response:
    """人机考核 as published to everyone: the city's counties and townships, and departments,
    never an officer's name."""
    async with central_node(request).db.read() as db:
        unit = await queries.city_code(db)
    if unit is None:
        raise HTTPException(status_code=404, detail=_("还没有登记任何乡镇。"))
    return await _assessment(request, unit, None, internal=False)


routes = [
    Route("/supervision/", page, methods=["GET"], name="supervision:dashboard"),
    Route("/supervision/cases", cases, methods=["GET"], name="supervision:cases"),
    Route("/supervision/assessment", assessment, methods=["GET"], name="supervision:assessment"),
    Route("/disclosure/assessment", published, methods=["GET"], name="supervision:published"),
    Route(
        "/supervision/steps/{node_id}/{step_id}",
        step_page,
        methods=["GET"],
        name="supervision:step",
    ),
    Route(
        "/supervision/steps/{node_id}/{step_id}/urge",
        csrf.protected(urge),
        methods=["POST"],
        name="supervision:urge",
    ),
]
