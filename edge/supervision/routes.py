"""/supervision/...: the township's 电子监察 dashboard, the cases behind each count, a step's
history with its reminders and the 催办 form, and the 人机考核 page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from ulid import ULID

from edge.affairs.schedule import schedule_cards
from edge.applications import states
from edge.applications.tracking_code import format_code
from edge.feedback.cards import open_cards as feedback_cards
from edge.jurisdictions.codes import contains, is_code, prefix_of
from edge.kernel import csrf, idempotency
from edge.kernel.auth.access import require
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name
from edge.kernel.templating import render
from edge.kernel.urls import path_for
from edge.node import edge_node
from edge.ratings.queries import figures as rating_figures
from edge.ratings.queries import per_office
from edge.supervision import assessment_page, dashboard, queries
from edge.supervision.cards import CardRule
from edge.supervision.deadlines import responsible, reviewers
from edge.supervision.forms import parse_period
from edge.supervision.rules import load_rules
from edge.supervision.sources import EDGE_TABLES, Scope, clock_for, load
from edge.supervision.statistics import Clock
from edge.supervision.urging import urge as send_urge
from edge.workdays.arithmetic import CARD_LABELS
from edge.workdays.local import local_today

VIEWERS = ("supervisor", "township_staff")
NOTE_LENGTH = 200


def _today(request: Request) -> Any:
    node = edge_node(request)
    return local_today(node.clock(), node.settings.web.timezone)


def _rule(request: Request) -> CardRule:
    return CardRule(edge_node(request).settings.warning_working_days, load_rules().yellow_share)


def _unit(request: Request, account: Account) -> str:
    """The unit asked for, inside the account's jurisdiction (404 outside it)."""
    unit = request.query_params.get("unit", account.jurisdiction_code)
    if not is_code(unit) or not contains(account.jurisdiction_code, unit):
        raise HTTPException(status_code=404, detail=_("没有找到这个单位，或不在您的管辖范围内。"))
    return unit


async def _names(db: Any, unit: str, people: bool = True) -> dashboard.Names:
    """Names of places and departments, and of staff unless the page is public."""
    return dashboard.Names(
        await queries.jurisdiction_names(db, prefix_of(unit)[:6]),
        await queries.department_names(db),
        await queries.account_names(db) if people else {},
    )


async def page(request: Request) -> Response:
    """Figures of the account's township (or a village in it) for a period, by unit,
    department and, inside one department, officer; every count links to its cases."""
    account = require(request, *VIEWERS)
    unit = _unit(request, account)
    department = request.query_params.get("department") or None
    period, errors = parse_period(request.query_params, _today(request))
    node = edge_node(request)
    async with node.db.read() as db:
        clock = await clock_for(db, _today(request), period.since, _rule(request))
        facts = await load(
            db, EDGE_TABLES, Scope(prefix_of(unit)), period, node.settings.web.timezone
        )
        names = await _names(db, unit)
    if department and department not in names.departments:
        raise HTTPException(status_code=404, detail=_("没有找到这个部门。"))
    tables = dashboard.tables_for(facts, period, clock, unit, names, department)
    wanted = request.query_params.get("table")
    if request.query_params.get("format") == "csv":
        table = next((t for t in tables if t.name == wanted), tables[0])
        return dashboard.csv_response(table, unit)
    return render(
        request,
        "edge/supervision/dashboard.html",
        {
            **dashboard.shown(period, errors),
            "unit": unit,
            "unit_label": names.place(unit),
            "parent": None if unit == account.jurisdiction_code else dashboard.parent_of(unit),
            "department": department,
            "department_label": names.department(department) if department else "",
            "tables": tables,
            "charts": {t.name: dashboard.on_time_chart(t) for t in tables if t.rows},
            "queue_url": path_for(request, "review:queue"),
            "others_url": path_for(request, "supervision:others"),
        },
    )


async def others(request: Request) -> Response:
    """What else the township must do on time, beside applications: 我有话说 items and village
    disclosures with yellow or red cards, and 好差评 per office for the period (six queries)."""
    account = require(request, *VIEWERS)
    unit = _unit(request, account)
    period, errors = parse_period(request.query_params, _today(request))
    node = edge_node(request)
    prefix = prefix_of(unit)
    async with node.db.read() as db:
        feedback = await feedback_cards(db, _today(request), prefix)
        disclosures = await schedule_cards(
            db, _today(request), prefix, node.settings.disclosure_warning_working_days
        )
        ratings = await rating_figures(
            db,
            since=period.since.isoformat(),
            until=period.until.isoformat(),
            village_prefix=prefix,
        )
        names = await _names(db, unit)
    context = {
        **dashboard.shown(period, errors),
        "unit": unit,
        "unit_label": names.place(unit),
        "feedback": feedback,
        "disclosures": disclosures,
        "ratings": per_office(ratings),
        "card_labels": CARD_LABELS,
        "place": names.place,
    }
    return render(request, "edge/supervision/others.html", context)


async def cases(request: Request) -> Response:
    """The cases behind one count of the dashboard (the same rule as the count)."""
    account = require(request, *VIEWERS)
    unit = _unit(request, account)
    measure = request.query_params.get("measure", "")
    if measure not in dashboard.COUNTS:
        raise HTTPException(status_code=404, detail=_("没有这项统计。"))
    department = request.query_params.get("department") or None
    officer = request.query_params.get("officer") or None
    period, errors = parse_period(request.query_params, _today(request))
    node = edge_node(request)
    async with node.db.read() as db:
        clock = await clock_for(db, _today(request), period.since, _rule(request))
        facts = await load(
            db, EDGE_TABLES, Scope(prefix_of(unit)), period, node.settings.web.timezone
        )
        found = dashboard.cases(facts, period, clock, measure, department, officer)
        shown = found[:200]
        details = await queries.case_rows(db, sorted({c.app.id for c in shown}))
        names = await _names(db, unit)
    return render(
        request,
        "edge/supervision/cases.html",
        {
            **dashboard.shown(period, errors),
            "unit": unit,
            "unit_label": names.place(unit),
            "department_label": names.department(department) if department else "",
            "officer_label": names.person(officer) if officer else "",
            "measure_label": dashboard.MEASURE_LABELS[measure],
            "found": found,
            "shown": shown,
            "detail_of": lambda case: details.get(case.app.id),
            "names": names,
            "card_of": lambda case: _card_of(case, clock),
            "card_labels": CARD_LABELS,
            "format_code": format_code,
            "mask_name": mask_name,
            "step_url": lambda step: path_for(request, "supervision:step", step_id=step.id),
        },
    )


def _local_time(value: str, timezone: str) -> str:
    """A stored UTC stamp as the local wall-clock time staff read."""
    return datetime.fromisoformat(value).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _card_of(case: dashboard.Case, clock: Clock) -> str:
    if case.step is not None:
        return clock.step_card(case.step, case.app.status)
    return clock.application_card(case.app)


def _urged_at_central(request: Request, step: Any) -> bool:
    """A county step of a node connected to central: decided, reminded and urged there (this
    node's officer rows cannot decide it)."""
    return step["level"] == "county" and bool(edge_node(request).settings.central_url)


async def _step_page(request: Request, account: Account, step_id: str, **extra: Any) -> Response:
    node = edge_node(request)
    async with node.db.read() as db:
        step = await queries.step(db, step_id)
        if step is None or not contains(account.jurisdiction_code, step["village_code"]):
            raise HTTPException(status_code=404, detail=_("没有找到这个办理环节。"))
        steps = await queries.steps_of(db, step["application_id"])
        supplements = await queries.supplements_of(db, step["application_id"])
        reminders = [
            {**r, "at": _local_time(r["sent_at"], node.settings.web.timezone)}
            for r in await queries.reminders_of(db, step["application_id"])
        ]
        clock = await clock_for(db, _today(request), _today(request), _rule(request))
    due = step["due_on"]
    card = "green"
    if due and step["status"] == "active" and step["app_status"] == "in_review":
        card = clock.rule.card(date.fromisoformat(due), step["days"], clock.today, clock.index)
    return render(
        request,
        "edge/supervision/step.html",
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
            "file_url": path_for(
                request, "review:application", application_id=step["application_id"]
            )
            if account.role in ("township_staff", "supervisor")
            else None,
            "may_urge": account.role == "supervisor"
            and step["status"] == "active"
            and step["app_status"] == "in_review"
            and not _urged_at_central(request, step),
            "urged_at_central": _urged_at_central(request, step),
            "urge_url": path_for(request, "supervision:urge", step_id=step["id"]),
            "urge_by_sms_only": False,
            "key": str(ULID()),
            "values": {},
            "errors": {},
            **extra,
        },
        status_code=400 if extra.get("errors") else 200,
    )


async def step_page(request: Request) -> Response:
    """A step: its card, the file's steps and returns, and every reminder sent (who, when)."""
    account = require(request, *VIEWERS)
    return await _step_page(request, account, request.path_params["step_id"])


async def urge(request: Request) -> Response:
    """A supervisor's 催办: SMS and push to the staff who may decide the step; once per key."""
    account = require(request, "supervisor")
    node = edge_node(request)
    step_id = request.path_params["step_id"]
    form = await request.form()
    key = str(form.get("idempotency_key", ""))
    if not idempotency.valid_key(key):
        raise HTTPException(status_code=400, detail=_("表单缺少提交编号，请重新打开表单。"))
    note = str(form.get("note", "")).strip()
    url = path_for(request, "supervision:step", step_id=step_id)
    if len(note) > NOTE_LENGTH:
        errors = {"note": _("附言最多 %(n)d 个字。") % {"n": NOTE_LENGTH}}
        return await _step_page(request, account, step_id, values={"note": note}, errors=errors)
    digest = idempotency.request_hash({"step": step_id, "note": note})
    try:
        async with node.db.write() as db:
            if await idempotency.replay(db, key, account.id, digest) is not None:
                return RedirectResponse(url, status_code=303)
            step = await queries.step(db, step_id)
            if step is None or not contains(account.jurisdiction_code, step["village_code"]):
                raise HTTPException(status_code=404, detail=_("没有找到这个办理环节。"))
            if step["status"] != "active" or step["app_status"] != "in_review":
                errors = {"note": _("这个环节已不在办理中，无需催办。")}
            elif _urged_at_central(request, step):
                errors = {"note": _("县级部门的环节由中心办理，请在中心的电子监察页面催办。")}
            else:
                people = responsible(step, await reviewers(db))
                now = node.clock()
                reminder = await send_urge(
                    db, node.settings.keys_dir, step, account, people, note, now
                )
                result = idempotency.Result("reminder", reminder)
                await idempotency.remember(db, key, account.id, digest, result, stamp(now))
                return RedirectResponse(url, status_code=303)
    except idempotency.KeyReused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return await _step_page(request, account, step_id, values={"note": note}, errors=errors)


async def _assessment(request: Request, unit: str, internal: bool) -> Response:
    """人机考核 of the township (or unit) for the last whole month or quarter, as a page or,
    with `format=csv`, one of its tables."""
    today = _today(request)
    kind, period = assessment_page.period_of(request, today)
    node = edge_node(request)
    async with node.db.read() as db:
        clock = await clock_for(db, today, period.since, _rule(request))
        facts = await load(
            db, EDGE_TABLES, Scope(prefix_of(unit)), period, node.settings.web.timezone
        )
        names = await _names(db, unit, people=internal)
    rules = load_rules()
    views = dashboard.assessment_views(facts, period, clock, unit, names, rules, internal)
    return assessment_page.answer(
        request, "edge/supervision/assessment.html", kind, period, views, rules, unit, internal
    )


async def assessment(request: Request) -> Response:
    """人机考核 (internal view): units and departments, and for supervisors the officers,
    each with its indicators, the weights and the grade."""
    account = require(request, *VIEWERS)
    return await _assessment(
        request, account.jurisdiction_code, internal=account.role == "supervisor"
    )


async def published(request: Request) -> Response:
    """人机考核 as published to everyone: villages and offices, never an officer's name."""
    return await _assessment(request, edge_node(request).settings.township_code, internal=False)


routes = [
    Route("/supervision/", page, methods=["GET"], name="supervision:dashboard"),
    Route("/supervision/cases", cases, methods=["GET"], name="supervision:cases"),
    Route("/supervision/others", others, methods=["GET"], name="supervision:others"),
    Route("/supervision/assessment", assessment, methods=["GET"], name="supervision:assessment"),
    Route("/disclosure/assessment", published, methods=["GET"], name="supervision:published"),
    Route("/supervision/steps/{step_id}", step_page, methods=["GET"], name="supervision:step"),
    Route(
        "/supervision/steps/{step_id}/urge",
        csrf.protected(urge),
        methods=["POST"],
        name="supervision:urge",
    ),
]
