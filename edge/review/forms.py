"""The decision form: approve, reject (reasons required) or return for supplement (materials)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from edge.kernel.i18n import gettext as _

ACTIONS = ("approve", "reject", "return")
OPINION_MAX = 500


def parse_decision(
    form: FormData, materials: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, errors) of a decision post."""
    known = {m["key"] for m in materials}
    values = {
        "action": str(form.get("action", "")),
        "opinion": str(form.get("opinion", "")).strip()[:OPINION_MAX],
        "materials": tuple(
            k for k in form.getlist("materials") if isinstance(k, str) and k in known
        ),
    }
    errors: dict[str, str] = {}
    if values["action"] not in ACTIONS:
        errors["action"] = _("请选择办理结果。")
    elif values["action"] == "reject" and not values["opinion"]:
        errors["opinion"] = _("不予批准时必须写明理由。")
    elif values["action"] == "return" and not values["materials"]:
        errors["materials"] = _("退回补正时请勾选需要补正的材料（一次性告知）。")
    return values, errors
