"""Parse the Open311 key form: who the key is for and how many requests an hour it may POST."""

from __future__ import annotations

from typing import Any

from central.feedback.keys import DEFAULT_PER_HOUR, MAX_PER_HOUR
from edge.kernel.i18n import gettext as _
from edge.kernel.text_input import text_problem

NAME_MAX = 60


def parse_key(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, errors) of a new key: a client name and a limit per hour."""
    name = " ".join(str(form.get("name", "")).split())
    raw_limit = str(form.get("per_hour", "")).strip() or str(DEFAULT_PER_HOUR)
    values: dict[str, Any] = {"name": name[:NAME_MAX], "per_hour": raw_limit[:8]}
    errors: dict[str, str] = {}
    if not name or len(name) > NAME_MAX or text_problem(name):
        errors["name"] = _("请填写使用这个密钥的单位或系统名称，不超过60个字。")
    if not raw_limit.isdecimal() or not 1 <= int(raw_limit) <= MAX_PER_HOUR:
        errors["per_hour"] = _("每小时上限请填1到%(max)s之间的整数。") % {"max": MAX_PER_HOUR}
    else:
        values["per_hour"] = int(raw_limit)
    return values, errors
