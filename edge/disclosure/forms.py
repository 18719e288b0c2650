"""Parse the results filters (GET) and the withholding form (staff POST) -> values, errors."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from edge.disclosure.labels import WITHHOLD_REASONS
from edge.disclosure.results import ResultFilter
from edge.kernel.i18n import gettext as _

MONTH = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")
MAX_PAGE = 500
NOTE_LIMIT = 200


def parse_filter(
    params: Mapping[str, str], villages: Collection[str], items: Collection[str]
) -> ResultFilter:
    """The filters a visitor chose; anything unknown is dropped, never an error page."""
    village = params.get("village", "")
    item = params.get("item", "")
    month = params.get("month", "")
    page = params.get("page", "1")
    return ResultFilter(
        village=village if village in villages else "",
        item=item if item in items else "",
        month=month if MONTH.match(month) else "",
        page=min(int(page), MAX_PAGE) if page.isdecimal() and int(page) > 0 else 1,
    )


def parse_withhold(form: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors) of a withhold or release request."""
    values = {
        "action": str(form.get("action", "")),
        "reason": str(form.get("reason", "")),
        "note": str(form.get("note", "")).strip(),
    }
    errors: dict[str, str] = {}
    if values["action"] not in ("withhold", "release"):
        errors["action"] = _("请选择暂不公开或恢复公开。")
    if values["action"] == "withhold" and values["reason"] not in WITHHOLD_REASONS:
        errors["reason"] = _("请选择暂不公开的理由。")
    if len(values["note"]) > NOTE_LIMIT:
        errors["note"] = _("说明请不要超过200个字。")
    return values, errors
