"""The intake form: the applicant and the item's e-form fields, checked by the catalog's rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from edge.catalog.item import Field
from edge.kernel import id_numbers
from edge.kernel.auth.forms import is_mobile
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick
from edge.kernel.text_input import name_problem, normal_name, text_problem


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def parse_applicant(form: FormData, today: date) -> tuple[dict[str, str], dict[str, str], Any]:
    """(values, errors, parsed resident id or None) of the applicant section."""
    values = {
        "id_number": id_numbers.normalize(_text(form, "id_number")),
        "name": normal_name(_text(form, "name")),
        "phone": _text(form, "phone").replace(" ", "").replace("-", ""),
    }
    errors: dict[str, str] = {}
    resident = None
    try:
        resident = id_numbers.parse(values["id_number"], today)
    except id_numbers.InvalidIdNumber as exc:
        errors["id_number"] = str(exc)
    if bad_name := name_problem(values["name"]):
        errors["name"] = str(bad_name)
    elif not 1 <= len(values["name"]) <= 30:
        errors["name"] = _("请填写申请人姓名（1至30个字）。")
    if not is_mobile(values["phone"]):
        errors["phone"] = _("请填写11位手机号码，用于接收办理进度短信。")
    return values, errors, resident


def _number(field: Field, raw: str) -> str | None:
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return _("请填写数字。")
    if not number.is_finite():
        return _("请填写数字。")
    if field.min is not None and number < Decimal(str(field.min)):
        return _("不能小于 %(n)s。") % {"n": field.min}
    if field.max is not None and number > Decimal(str(field.max)):
        return _("不能大于 %(n)s。") % {"n": field.max}
    return None


def _month(field: Field, raw: str, today: date) -> str | None:
    """A year and month (2020-05): for dates people remember only roughly."""
    try:
        first = date.fromisoformat(f"{raw}-01") if len(raw) == 7 else None
    except ValueError:
        first = None
    if first is None:
        return _("请按 年-月 填写，例如 2020-05。")
    if field.past_only and first > today.replace(day=1):
        return _("年月不能晚于本月。")
    if field.future_only and first < today.replace(day=1):
        return _("年月不能早于本月。")
    return None


def _date(field: Field, raw: str, today: date) -> str | None:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return _("请按 年-月-日 填写日期，例如 2026-01-31。")
    if field.past_only and day > today:
        return _("日期不能晚于今天。")
    if field.future_only and day < today:
        return _("日期不能早于今天。")
    return None


def _text_rule(field: Field, raw: str) -> str | None:
    low = 1 if field.min_length is None else field.min_length
    high = field.longest
    if not low <= len(raw) <= high:
        return _("请填写 %(low)s 至 %(high)s 个字。") % {"low": low, "high": high}
    return None


def _check(field: Field, raw: str, today: date) -> str | None:
    kind = field.type
    if kind == "text":
        return _text_rule(field, raw)
    if kind == "number":
        return _number(field, raw)
    if kind == "date":
        return _date(field, raw, today)
    if kind == "month":
        return _month(field, raw, today)
    if kind == "choice":
        allowed = {choice.value for choice in field.choices}
        return None if raw in allowed else _("请从选项中选择。")
    if kind == "id_number":
        try:
            id_numbers.parse(raw, today)
        except id_numbers.InvalidIdNumber as exc:
            return str(exc)
        return None
    if kind == "phone":
        return None if is_mobile(raw) else _("请填写11位手机号码。")
    raise ValueError(f"unknown field type {kind}")


def parse_fields(
    fields: Sequence[Field], form: FormData, today: date
) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors) of the item's e-form; errors name the field in the user's language."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = _text(form, f"f_{field.name}")
        if field.type == "id_number":
            raw = id_numbers.normalize(raw)
        values[field.name] = raw
        if bad_text := text_problem(raw):
            errors[field.name] = str(bad_text)
            continue
        if not raw:
            if field.required:
                errors[field.name] = _("“%(label)s”必须填写。") % {
                    "label": pick(field.label.zh, field.label.en)
                }
            continue
        problem = _check(field, raw, today)
        if problem:
            errors[field.name] = problem
    return values, errors
