"""The feedback forms -> values, errors: raising an item, staff actions, the public version,
rating and reopening."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from starlette.datastructures import FormData

from edge.feedback.routing import routing
from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import name_problem, normal_name, text_problem
from edge.ratings.levels import LEVELS

BODY_MIN = 5
BODY_MAX = 1000
ANSWER_MAX = 2000
NAME_MAX = 30
MOBILE = re.compile(r"^1\d{10}$")
SPACES = re.compile(r"[\s-]+")


def _text(form: FormData, name: str, limit: int) -> str:
    return str(form.get(name, "")).strip()[:limit]


def parse_phone(raw: str) -> str | None:
    """An 11-digit mainland mobile number from what was typed (spaces, dashes, +86 allowed);
    '' when nothing was typed, None when it is not a mobile number."""
    compact = SPACES.sub("", raw)
    if compact.startswith("+86"):
        compact = compact[3:]
    if not compact:
        return ""
    return compact if MOBILE.match(compact) else None


def parse_new(
    form: FormData, villages: Collection[str], fixed_village: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, errors) of a new item; `fixed_village` for an agent, who raises for theirs."""
    values: dict[str, Any] = {
        "village": fixed_village or _text(form, "village", 12),
        "kind": _text(form, "kind", 20),
        "category": _text(form, "category", 30),
        "body": _text(form, "body", BODY_MAX + 1),
        "name": normal_name(_text(form, "name", NAME_MAX + 1)),
        "phone": _text(form, "phone", 20),
        "private": form.get("private") == "1",
    }
    errors: dict[str, str] = {}
    if values["village"] not in villages:
        errors["village"] = _("请选择您所在的村。")
    if routing().kind(values["kind"]) is None:
        errors["kind"] = _("请选择类型。")
    if routing().category(values["category"]) is None:
        errors["category"] = _("请选择事项类别。")
    body = values["body"]
    if len(body) < BODY_MIN:
        errors["body"] = _("请写清楚您要说的事，至少5个字。")
    elif len(body) > BODY_MAX:
        errors["body"] = _("内容太长，请不超过1000个字。")
    elif problem := text_problem(body, multiline=True):
        errors["body"] = str(problem)
    if len(values["name"]) > NAME_MAX or (values["name"] and name_problem(values["name"])):
        errors["name"] = _("姓名只能是文字，不超过30个字。")
    phone = parse_phone(values["phone"])
    if phone is None:
        errors["phone"] = _("手机号码应为11位数字，以1开头；不需要短信答复可以不填。")
    else:
        values["phone"] = phone
    return values, errors


def parse_action(form: FormData, departments: Collection[str]) -> tuple[dict[str, str], str]:
    """(values, error) of a staff step: action, department (to transfer), note or answer."""
    values = {
        "action": _text(form, "action", 20),
        "department": _text(form, "department", 30),
        "note": _text(form, "note", ANSWER_MAX + 1),
    }
    if values["action"] not in ("transferred", "handling", "answered", "visited"):
        return values, _("请选择要做的操作。")
    if values["action"] == "transferred" and values["department"] not in departments:
        return values, _("请选择转办的部门。")
    if values["action"] == "answered" and not values["note"]:
        return values, _("请填写答复内容。")
    if len(values["note"]) > ANSWER_MAX:
        return values, _("内容太长，请不超过2000个字。")
    problem = text_problem(values["note"], multiline=True)
    return values, str(problem) if problem else ""


def parse_public(form: FormData) -> tuple[dict[str, Any], str]:
    """(values, error) of the public version staff edit."""
    values: dict[str, Any] = {
        "public_body": _text(form, "public_body", BODY_MAX + 1),
        "name_hidden": form.get("name_hidden") == "1",
        "photo_hidden": form.get("photo_hidden") == "1",
    }
    if len(values["public_body"]) > BODY_MAX:
        return values, _("内容太长，请不超过1000个字。")
    problem = text_problem(values["public_body"], multiline=True)
    return values, str(problem) if problem else ""


# the text codes a page rendered before the levels were unified (edge migration 0027) posts
LEGACY_LEVELS = {
    "very_satisfied": 1,
    "satisfied": 2,
    "neutral": 3,
    "dissatisfied": 4,
    "very_dissatisfied": 5,
}


def parse_rating(form: FormData) -> tuple[int, str]:
    """(level, error) of the resident's rating: one of the five levels of 好差评."""
    raw = _text(form, "rating", 20)
    level = int(raw) if raw.isdecimal() and len(raw) == 1 else LEGACY_LEVELS.get(raw, 0)
    return level, "" if level in LEVELS else _("请选择一个评价。")


def parse_reopen(form: FormData) -> tuple[str, str]:
    """(reason, error) of a request to reopen."""
    reason = _text(form, "reason", 500)
    if not reason:
        return reason, _("请说明哪里没有解决。")
    problem = text_problem(reason, multiline=True)
    return reason, str(problem) if problem else ""
