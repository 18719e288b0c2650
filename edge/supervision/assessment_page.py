"""What a 人机考核 request answers, at either node: the period asked for (last month or last
quarter), then the page or, with `format=csv`, one of its tables."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from edge.kernel.templating import render
from edge.supervision import dashboard
from edge.supervision.assessment import WEIGHT_LABELS
from edge.supervision.forms import month_of, quarter_of
from edge.supervision.rules import Rules
from edge.supervision.statistics import Period


def period_of(request: Request, today: date) -> tuple[str, Period]:
    """("month" or "quarter", the last whole one before today) from `?of=`."""
    kind = "quarter" if request.query_params.get("of") == "quarter" else "month"
    return kind, quarter_of(today, 1) if kind == "quarter" else month_of(today, 1)


def answer(
    request: Request,
    template: str,
    kind: str,
    period: Period,
    views: list[dashboard.AssessmentView],
    rules: Rules,
    unit: str,
    internal: bool,
) -> Response:
    """The page, or the CSV of the table `?table=` names (the first when it names none)."""
    if request.query_params.get("format") == "csv":
        wanted = request.query_params.get("table")
        view = next((v for v in views if v.name == wanted), views[0])
        text = dashboard.assessment_csv(view, rules, WEIGHT_LABELS)
        return dashboard.download(text, f"assessment-{kind}-{view.name}-{unit}.csv")
    context = {
        "period": period,
        "kind": kind,
        "views": views,
        "rules": rules,
        "weight_labels": WEIGHT_LABELS,
        "value": dashboard.value,
        "published": not internal,
        "here": request.url.path,
    }
    return render(request, template, context)
