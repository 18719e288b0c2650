"""The dashboard's query string: the period (week, month, quarter, custom) -> values, errors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import lazy_gettext
from edge.supervision.statistics import Period

PERIOD_KINDS = {
    "week": lazy_gettext("本周"),
    "month": lazy_gettext("本月"),
    "quarter": lazy_gettext("本季度"),
    "custom": lazy_gettext("自定义"),
}
LONGEST = timedelta(days=731)


def standard_period(kind: str, today: date) -> Period:
    """This week, month or quarter up to today."""
    if kind == "week":
        return Period(today - timedelta(days=today.weekday()), today, "week")
    if kind == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        return Period(today.replace(month=first_month, day=1), today, "quarter")
    return Period(today.replace(day=1), today, "month")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_period(query: Mapping[str, str], today: date) -> tuple[Period, dict[str, str]]:
    """The chosen period, or this month with a message saying what was wrong."""
    kind = query.get("period", "month")
    if kind not in PERIOD_KINDS:
        return standard_period("month", today), {"period": _("请选择周、月、季度或自定义时段。")}
    if kind != "custom":
        return standard_period(kind, today), {}
    since, until = _date(query.get("since", "")), _date(query.get("until", ""))
    if since is None or until is None:
        message = _("请按 2026-01-31 的格式填写开始和结束日期。")
        return standard_period("month", today), {"period": message}
    if since > until:
        return standard_period("month", today), {"period": _("开始日期不能晚于结束日期。")}
    if until - since > LONGEST:
        return standard_period("month", today), {"period": _("时段最长两年。")}
    return Period(since, until, "custom"), {}


def month_of(day: date, months_back: int = 0) -> Period:
    """A whole calendar month, `months_back` months before the month of `day`."""
    month_index = day.year * 12 + day.month - 1 - months_back
    first = date(month_index // 12, month_index % 12 + 1, 1)
    following = date((month_index + 1) // 12, (month_index + 1) % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), "month")


def quarter_of(day: date, quarters_back: int = 0) -> Period:
    """A whole calendar quarter, `quarters_back` quarters before the quarter of `day`."""
    index = day.year * 4 + (day.month - 1) // 3 - quarters_back
    first = date(index // 4, 3 * (index % 4) + 1, 1)
    following = date((index + 1) // 4, 3 * ((index + 1) % 4) + 1, 1)
    return Period(first, following - timedelta(days=1), "quarter")
