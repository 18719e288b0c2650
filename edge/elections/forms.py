"""The election publicity form -> (values, candidates, errors)."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import name_problem, normal_name, text_problem

CANDIDATE_ROWS = 9
ROLE_MAX = 30


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def parse_election(
    form: FormData, villages: Container[str]
) -> tuple[dict[str, Any], list[tuple[str, str]], dict[str, str]]:
    """(values to store or show again, (name, role) candidates, errors by field)."""
    values: dict[str, Any] = {
        name: str(form.get(name, "")).strip()
        for name in ("village", "title", "note", "starts_on", "ends_on")
    }
    errors: dict[str, str] = {}
    if values["village"] not in villages:
        errors["village"] = _("请选择村（社区）。")
    if not values["title"]:
        errors["title"] = _("请填写标题。")
    for name, limit in (("title", 80), ("note", 1000)):
        problem = text_problem(values[name], multiline=name == "note")
        if problem is not None:
            errors[name] = str(problem)
        elif len(values[name]) > limit:
            errors[name] = _("最多 %(n)s 个字。") % {"n": limit}
    start, end = _day(values["starts_on"]), _day(values["ends_on"])
    if start is None:
        errors["starts_on"] = _("请按 年-月-日 填写公示开始日期。")
    if end is None:
        errors["ends_on"] = _("请按 年-月-日 填写公示结束日期。")
    elif start is not None and end < start:
        errors["ends_on"] = _("公示结束日期不能早于开始日期。")
    rows, candidates = [], []
    for index in range(CANDIDATE_ROWS):
        name = normal_name(str(form.get(f"name_{index}", "")))
        role = str(form.get(f"role_{index}", "")).strip()
        rows.append({"name": name, "role": role})
        if not name and not role:
            continue
        if not name or name_problem(name) is not None:
            errors[f"row_{index}"] = _("第 %(n)s 行：请填写候选人姓名（只写姓名）。") % {
                "n": index + 1
            }
        elif not role or text_problem(role) is not None or len(role) > ROLE_MAX:
            errors[f"row_{index}"] = _("第 %(n)s 行：请填写拟任职务，例如 村委会主任。") % {
                "n": index + 1
            }
        else:
            candidates.append((name, role))
    values["rows"] = rows
    if not candidates and not any(key.startswith("row_") for key in errors):
        errors["rows"] = _("请至少填写一名候选人。")
    return values, candidates, errors
