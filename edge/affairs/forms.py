"""The disclosure form -> (values, lines, errors): kind and period, title and text, and for
finances the income and spending lines whose sums must equal the totals typed (checked here)."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from starlette.datastructures import FormData

from edge.affairs import periods
from edge.affairs.money import to_fen, yuan
from edge.affairs.records import Line, total
from edge.affairs.schedule import kinds
from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import text_problem

LINE_ROWS = 10
TITLE_MAX = 80
BODY_MAX = 3000
LABEL_MAX = 40
REASON_MAX = 300


def parse_affair(
    form: FormData, villages: Container[str]
) -> tuple[dict[str, Any], list[Line], dict[str, str]]:
    """(values to store or show again, finance lines, errors by field)."""
    values: dict[str, Any] = {
        name: str(form.get(name, "")).strip()
        for name in ("village", "kind", "period", "title", "body", "income_total", "spending_total")
    }
    errors: dict[str, str] = {}
    if values["village"] not in villages:
        errors["village"] = _("请选择村（社区）。")
    kind = kinds().get(values["kind"])
    if kind is None:
        errors["kind"] = _("请选择公开类别。")
    elif not periods.valid_period(kind.every, values["period"]):
        errors["period"] = _period_message(kind.every)
    _texts(values, errors)
    lines: list[Line] = []
    if values["kind"] == "finance":
        lines = _lines(form, values, errors)
        _totals(values, lines, errors)
    return values, lines, errors


def _period_message(every: str) -> str:
    if every == "month":
        return _("财务公开按月，请填写月份，例如 2026-11。")
    if every == "quarter":
        return _("请填写季度，例如 2026-Q4（第四季度）。")
    return _("重大事项请填写发生日期，例如 2026-11-23。")


def _texts(values: dict[str, Any], errors: dict[str, str]) -> None:
    for name, limit in (("title", TITLE_MAX), ("body", BODY_MAX)):
        problem = text_problem(values[name], multiline=name == "body")
        if not values[name] and name == "title":
            errors[name] = _("请填写标题。")
        elif problem is not None:
            errors[name] = str(problem)
        elif len(values[name]) > limit:
            errors[name] = _("最多 %(n)s 个字。") % {"n": limit}
    if not values["body"] and values["kind"] != "finance":
        errors["body"] = _("请填写公开内容。")


def _lines(form: FormData, values: dict[str, Any], errors: dict[str, str]) -> list[Line]:
    """The filled rows of the table; a row with a label but a bad amount (or the reverse) is
    an error on that row, and every row is kept to be shown again."""
    rows = []
    lines = []
    for index in range(LINE_ROWS):
        direction = str(form.get(f"line_dir_{index}", "spending"))
        label = str(form.get(f"line_label_{index}", "")).strip()
        amount = str(form.get(f"line_amount_{index}", "")).strip()
        rows.append({"direction": direction, "label": label, "amount": amount})
        if not label and not amount:
            continue
        fen = to_fen(amount)
        problem = text_problem(label)
        if direction not in ("income", "spending"):
            errors[f"line_{index}"] = _("请选择收入或支出。")
        elif not label or problem is not None or len(label) > LABEL_MAX:
            errors[f"line_{index}"] = _("第 %(n)s 行：请填写项目名称（最多 40 个字）。") % {
                "n": index + 1
            }
        elif fen is None:
            errors[f"line_{index}"] = _(
                "第 %(n)s 行：金额请写成元，最多两位小数，例如 1280.50。"
            ) % {"n": index + 1}
        else:
            lines.append(Line(direction, label, fen))
    values["lines"] = rows
    if not lines and not any(key.startswith("line_") for key in errors):
        errors["lines"] = _("财务公开请至少填写一行收入或支出。")
    return lines


def _totals(values: dict[str, Any], lines: list[Line], errors: dict[str, str]) -> None:
    """The totals typed must equal the sums of the lines, to the fen."""
    for direction, label in (("income", _("收入合计")), ("spending", _("支出合计"))):
        typed = to_fen(values[f"{direction}_total"] or "0")
        summed = total(lines, direction)
        if typed is None:
            errors[f"{direction}_total"] = _("%(what)s请写成元，最多两位小数。") % {"what": label}
        elif typed != summed:
            errors[f"{direction}_total"] = _(
                "%(what)s填的是 %(typed)s 元，但各行加起来是 %(sum)s 元，请核对。"
            ) % {"what": label, "typed": yuan(typed), "sum": yuan(summed)}
        else:
            values[f"{direction}_total_fen"] = typed


def parse_review(form: FormData) -> tuple[str, str, dict[str, str]]:
    """(action approve|return, reason, errors) of the reviewer's form."""
    action = str(form.get("action", ""))
    reason = str(form.get("reason", "")).strip()
    errors: dict[str, str] = {}
    if action not in ("approve", "return"):
        errors["action"] = _("请选择通过发布或退回修改。")
    elif action == "return" and not reason:
        errors["reason"] = _("退回时请写明原因，村里才知道怎么改。")
    elif text_problem(reason, multiline=True) is not None or len(reason) > REASON_MAX:
        errors["reason"] = _("退回原因最多 300 个字，且不能含有特殊控制字符。")
    return action, reason, errors
