"""The policy form -> (values, errors): texts checked, an optional catalog item, valid dates."""

from __future__ import annotations

from collections.abc import Container
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import lazy_gettext
from edge.kernel.text_input import text_problem

LIMITS = {
    "title": 80,
    "issuer": 60,
    "eligibility": 1000,
    "amount": 200,
    "how_to_apply": 1000,
}
REQUIRED_MESSAGES = {
    "title": lazy_gettext("请填写政策名称。"),
    "issuer": lazy_gettext("请填写发布机关。"),
    "eligibility": lazy_gettext("请写明哪些人可以享受。"),
    "amount": lazy_gettext("请写明补贴标准或金额。"),
    "how_to_apply": lazy_gettext("请写明如何申请。"),
}


def parse_day(raw: str) -> date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def parse_policy(
    form: FormData, known_items: Container[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(values as stored, errors by field); with errors the values are shown again."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        text = str(form.get(name, "")).strip()
        values[name] = text
        problem = text_problem(text, multiline=limit > 200)
        if not text:
            errors[name] = str(REQUIRED_MESSAGES[name])
        elif problem is not None:
            errors[name] = str(problem)
        elif len(text) > limit:
            errors[name] = _("最多 %(n)s 个字。") % {"n": limit}
    code = str(form.get("item_code", "")).strip().upper()
    values["item_code"] = code or None
    if code and code not in known_items:
        errors["item_code"] = _("办事指南里没有这个事项编号。")
    _dates(form, values, errors)
    return values, errors


def _dates(form: FormData, values: dict[str, Any], errors: dict[str, str]) -> None:
    raw_from = str(form.get("valid_from", "")).strip()
    raw_to = str(form.get("valid_to", "")).strip()
    start, end = parse_day(raw_from), parse_day(raw_to) if raw_to else None
    values["valid_from"] = start.isoformat() if start else raw_from
    values["valid_to"] = end.isoformat() if end else (raw_to or None)
    if start is None:
        errors["valid_from"] = _("请按 年-月-日 填写开始日期，例如 2026-01-01。")
    if raw_to and end is None:
        errors["valid_to"] = _("请按 年-月-日 填写截止日期，或留空表示长期有效。")
    elif start and end and end < start:
        errors["valid_to"] = _("截止日期不能早于开始日期。")
