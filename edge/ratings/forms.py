"""The rating form and the follow-up forms -> values, errors (in the user's language)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import text_problem
from edge.ratings.levels import INDICATORS, LEVELS
from edge.ratings.recording import Given

COMMENT_MAX = 300
NOTE_MAX = 1000


def _level(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and int(text) in LEVELS else None


def _text(form: FormData, name: str, limit: int, errors: dict[str, str]) -> str:
    text = str(form.get(name, "")).strip()
    if len(text) > limit:
        errors[name] = _("请不要超过{limit}个字。").format(limit=limit)
    elif problem := text_problem(text, multiline=True):
        errors[name] = str(problem)
    return text


def parse_rating(form: FormData) -> tuple[Given | None, dict[str, Any], dict[str, str]]:
    """(what was given, or None with errors; the values to show again; errors by field)."""
    errors: dict[str, str] = {}
    level = _level(form.get("level"))
    indicators = {name: _level(form.get(name)) for name in INDICATORS}
    comment = _text(form, "comment", COMMENT_MAX, errors)
    values = {"level": level, "comment": comment, **indicators}
    if level is None:
        errors["level"] = _("请选择一个评价等级。")
    if errors or level is None:
        return None, values, errors
    return Given(level, indicators, comment), values, {}


def parse_note(form: FormData, name: str = "note") -> tuple[str, dict[str, str]]:
    """A required note of a follow-up action."""
    errors: dict[str, str] = {}
    note = _text(form, name, NOTE_MAX, errors)
    if not note and not errors:
        errors[name] = _("请填写情况说明。")
    return note, errors


def parse_choice(form: FormData, name: str, choices: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """One of `choices`, or an error."""
    value = str(form.get(name, ""))
    return value, ({} if value in choices else {name: _("请选择一项。")})
