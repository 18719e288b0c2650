"""What a supervision dashboard shows, for either node: tables per unit, department and officer,
the cases behind a count, charts and CSV. Pure: the pages load rows and names, this arranges."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from babel.support import LazyProxy
from starlette.responses import Response

from edge.jurisdictions.codes import level_of
from edge.kernel.i18n import lazy_gettext, pick
from edge.supervision.assessment import Assessed, assess, rating_shares
from edge.supervision.charts import Bar, bar_chart
from edge.supervision.forms import PERIOD_KINDS
from edge.supervision.rules import Rules
from edge.supervision.statistics import (
    ApplicationFact,
    Clock,
    Figures,
    Period,
    StepFact,
    application_measures,
    by_step,
    by_unit,
    step_measures,
    total,
)

# (attribute of Figures, heading); the counts among them link to their cases
COLUMNS: tuple[tuple[str, LazyProxy], ...] = (
    ("received", lazy_gettext("受理")),
    ("finished", lazy_gettext("办结")),
    ("on_time", lazy_gettext("按时办结")),
    ("on_time_rate", lazy_gettext("按时率")),
    ("late", lazy_gettext("超期办结")),
    ("open", lazy_gettext("在办")),
    ("yellow", lazy_gettext("黄牌")),
    ("red", lazy_gettext("红牌")),
    ("step_median", lazy_gettext("环节用时中位数")),
    ("step_p90", lazy_gettext("环节用时P90")),
    ("app_median", lazy_gettext("办件用时中位数")),
    ("app_p90", lazy_gettext("办件用时P90")),
    ("applicant_total", lazy_gettext("补正期间（申请人）")),
    ("returns", lazy_gettext("退回补正")),
    ("urged", lazy_gettext("催办")),
    ("rated", lazy_gettext("收到评价")),
    ("good_rate", lazy_gettext("好评率")),
    ("bad", lazy_gettext("差评")),
    ("bad_rate", lazy_gettext("差评率")),
    ("fixed_rate", lazy_gettext("差评整改率")),
    ("unrated", lazy_gettext("未评价")),
    ("unrated_rate", lazy_gettext("未评价率")),
)
COUNTS = frozenset({"received", "finished", "on_time", "late", "open", "yellow", "red"}) | {
    "returns",
    "urged",
    "rated",
    "bad",
    "unrated",
}
MEASURE_LABELS = dict(COLUMNS)
CHILD_LENGTH = {"province": 4, "city": 6, "county": 9, "township": 12}


@dataclass(frozen=True)
class Row:
    """One unit's line: its key, label, figures and where a click on it leads."""

    key: str
    label: str
    figures: Figures
    filters: dict[str, str]  # the cases' query for this row
    drill: dict[str, str] | None = None  # the dashboard's query one level down


@dataclass(frozen=True)
class Table:
    """A titled table of rows and their total."""

    name: str
    title: str
    rows: list[Row]
    total: Figures = field(default_factory=Figures)


@dataclass(frozen=True)
class Names:
    """Labels: jurisdictions and departments (rows with name_zh/name_en), officers (names)."""

    places: Mapping[str, Any]
    departments: Mapping[str, Any]
    people: Mapping[str, str]

    def place(self, code: str) -> str:
        row = self.places.get(code)
        return pick(row["name_zh"], row["name_en"]) if row else code

    def department(self, code: str) -> str:
        row = self.departments.get(code)
        return pick(row["name_zh"], row["name_en"]) if row else code

    def person(self, account_id: str) -> str:
        return self.people.get(account_id, account_id[-6:])


def child_key(unit: str) -> Callable[[str], str] | None:
    """Maps a village code to the child of `unit` it lies in (None: a village has no children)."""
    length = CHILD_LENGTH.get(level_of(unit))
    if length is None:
        return None
    return lambda village: village[:length].ljust(12, "0")


def _rows(
    table: dict[str, Figures],
    label: Callable[[str], str],
    filters: Callable[[str], dict[str, str]],
    drill: Callable[[str], dict[str, str] | None],
) -> list[Row]:
    return [
        Row(key, label(key), figures, filters(key), drill(key))
        for key, figures in sorted(table.items())
    ]


def unit_table(
    facts: list[ApplicationFact],
    period: Period,
    clock: Clock,
    unit: str,
    names: Names,
    department: str | None = None,
) -> Table:
    """The unit's children (or the unit itself, for a village), one row each: applications,
    or with `department` (a department head's view) that department's steps."""
    key = child_key(unit) or (lambda _village: unit)
    if department is None:
        table = by_unit(facts, period, clock, key)
    else:
        villages = {(app.node, app.id): app.village for app in facts}
        table = by_step(
            facts,
            period,
            clock,
            lambda s: (
                key(villages[s.node, s.application_id]) if s.department == department else None
            ),
        )
    can_drill = child_key(unit) is not None
    extra = {"department": department} if department else {}
    rows = _rows(
        table,
        names.place,
        lambda code: {"unit": code, **extra},
        lambda code: {"unit": code} if can_drill and level_of(code) != "village" else None,
    )
    return Table("units", str(lazy_gettext("按地区")), rows, total(table))


def department_table(
    facts: list[ApplicationFact], period: Period, clock: Clock, unit: str, names: Names
) -> Table:
    """Steps per department (a joint review counts in each of its departments)."""
    table = by_step(facts, period, clock, lambda step: step.department)
    rows = _rows(
        table,
        names.department,
        lambda code: {"unit": unit, "department": code},
        lambda code: {"unit": unit, "department": code},
    )
    return Table("departments", str(lazy_gettext("按部门（环节）")), rows, total(table))


def officer_table(
    facts: list[ApplicationFact],
    period: Period,
    clock: Clock,
    unit: str,
    department: str,
    names: Names,
) -> Table:
    """Steps of one department per officer who decided them (open steps have no officer yet)."""

    def officer(step: StepFact) -> str | None:
        return step.decided_by if step.department == department else None

    table = by_step(facts, period, clock, officer)
    rows = _rows(
        table,
        names.person,
        lambda person: {"unit": unit, "department": department, "officer": person},
        lambda _person: None,
    )
    return Table("officers", str(lazy_gettext("按办理人员")), rows, total(table))


@dataclass(frozen=True)
class Case:
    """One case behind a count: the application, and the step when the count is of steps."""

    app: ApplicationFact
    step: StepFact | None
    count: int


def cases(
    facts: list[ApplicationFact],
    period: Period,
    clock: Clock,
    measure: str,
    department: str | None = None,
    officer: str | None = None,
) -> list[Case]:
    """The cases a count stands for: the same rule as the count, so the list adds up to it."""
    found: list[Case] = []
    for app in facts:
        if department is None:
            count = application_measures(app, period, clock).get(measure, 0)
            if count:
                found.append(Case(app, None, count))
            continue
        for step in app.steps:
            if step.department != department or (officer and step.decided_by != officer):
                continue
            count = step_measures(step, app, period, clock).get(measure, 0)
            if count:
                found.append(Case(app, step, count))
    return found


def value(figures: Figures, column: str) -> str:
    """A cell as text: rates as percentages, missing times as —."""
    raw = getattr(figures, column)
    if raw is None:
        return "—"
    if column.endswith("_rate"):
        return f"{100 * raw:.1f}%"
    return str(raw)


def csv_text(table: Table) -> str:
    """The table as CSV (UTF-8 with BOM when sent, so spreadsheet programs read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(lazy_gettext("单位")), *[str(label) for _c, label in COLUMNS]])
    for row in [*table.rows]:
        writer.writerow([row.label, *[value(row.figures, c) for c, _l in COLUMNS]])
    writer.writerow([str(lazy_gettext("合计")), *[value(table.total, c) for c, _l in COLUMNS]])
    return out.getvalue()


def on_time_chart(table: Table) -> Any:
    """The table's on-time rates as bars, with the red cards beside them."""
    bars = [
        Bar(
            row.label,
            row.figures.on_time_rate,
            value(row.figures, "on_time_rate")
            + (f" ●{row.figures.red}" if row.figures.red else ""),
        )
        for row in table.rows
    ]
    return bar_chart(str(lazy_gettext("按时办结率（●红牌数）")), bars)


def query_string(period: Period) -> Any:
    base = {"period": period.kind}
    if period.kind == "custom":
        base |= {"since": period.since.isoformat(), "until": period.until.isoformat()}

    def qs(params: dict[str, str] | None = None, **extra: str) -> str:
        return urlencode({**base, **(params or {}), **extra})

    return qs


def download(text: str, filename: str) -> Response:
    """CSV text as a download, with a BOM so spreadsheet programs (Excel) read it as UTF-8."""
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_response(table: Table, unit: str) -> Response:
    return download(csv_text(table), f"supervision-{table.name}-{unit}.csv")


def parent_of(unit: str) -> str:
    """The code one level up (a village's township, a township's county...)."""
    length = {"village": 9, "township": 6, "county": 4, "city": 2}[level_of(unit)]
    return unit[:length].ljust(12, "0")


def shown(period: Period, errors: dict[str, str]) -> dict[str, Any]:
    return {
        "period": period,
        "errors": errors,
        "period_kinds": PERIOD_KINDS,
        "columns": COLUMNS,
        "counts": COUNTS,
        "value": value,
        "qs": query_string(period),
    }


def tables_for(
    facts: list[ApplicationFact],
    period: Period,
    clock: Clock,
    unit: str,
    names: Names,
    department: str | None,
    head_of: str | None = None,
) -> list[Table]:
    """A dashboard's tables: by area, by department, and inside one department by officer.
    `head_of`: a department head sees only that department's work."""
    tables = [
        unit_table(facts, period, clock, unit, names, head_of),
        department_table(facts, period, clock, unit, names),
    ]
    if department:
        tables.append(officer_table(facts, period, clock, unit, department, names))
    return tables


@dataclass(frozen=True)
class AssessmentView:
    """One 人机考核 table: units graded and ranked, and how to name them."""

    name: str
    title: str
    label: Callable[[str], str]
    rows: list[Assessed]


def _assessed(table: dict[str, Figures], rules: Rules) -> list[Assessed]:
    return assess(table, rules, rating_shares(table))


def assessment_views(
    facts: list[ApplicationFact],
    period: Period,
    clock: Clock,
    unit: str,
    names: Names,
    rules: Rules,
    internal: bool,
) -> list[AssessmentView]:
    """人机考核 tables: units and departments (published), officers (internal view only)."""
    key = child_key(unit) or (lambda _v: unit)
    views = [
        AssessmentView(
            "units",
            str(lazy_gettext("按地区")),
            names.place,
            _assessed(by_unit(facts, period, clock, key), rules),
        ),
        AssessmentView(
            "departments",
            str(lazy_gettext("按部门")),
            names.department,
            _assessed(by_step(facts, period, clock, lambda s: s.department), rules),
        ),
    ]
    if internal:
        views.append(
            AssessmentView(
                "officers",
                str(lazy_gettext("按办理人员（内部）")),
                names.person,
                _assessed(by_step(facts, period, clock, lambda s: s.decided_by), rules),
            )
        )
    return views


def assessment_csv(view: AssessmentView, rules: Rules, weight_labels: Mapping[str, Any]) -> str:
    """A 人机考核 table as CSV: rank, unit, grade, score, each indicator with its weight, and
    the figures behind them."""
    out = io.StringIO()
    writer = csv.writer(out)
    figures = ("finished", "on_time_rate", "late", "red", "rated", "bad_rate", "fixed_rate")
    writer.writerow(
        [
            str(lazy_gettext("名次")),
            str(lazy_gettext("单位")),
            str(lazy_gettext("等次")),
            str(lazy_gettext("得分")),
            *[f"{weight_labels[w]} ×{weight}" for w, weight in rules.weights.items()],
            *[str(MEASURE_LABELS[c]) for c in figures],
        ]
    )
    for row in view.rows:
        writer.writerow(
            [
                row.rank or "",
                view.label(row.unit),
                row.grade or str(lazy_gettext("无办结，不评")),
                "" if row.score is None else row.score,
                *[row.indicators.get(w, "") for w in rules.weights],
                *[value(row.figures, c) for c in figures],
            ]
        )
    return out.getvalue()
