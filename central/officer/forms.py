"""The officer's decision form -> a Decision; central.decisions refuses what may not be made."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from babel.support import LazyProxy
from starlette.datastructures import FormData

from edge.applications.decision import Decision
from edge.kernel.auth.account import Account
from edge.kernel.i18n import lazy_gettext

OPINION_MAX = 500
MATERIALS_FIELD = "material_keys"
ACTION_LABELS: dict[str, LazyProxy] = {
    "approve": lazy_gettext("同意"),
    "return": lazy_gettext("退回补正"),
    "reject": lazy_gettext("不予批准"),
}


def parse_decision(
    form: FormData, by: Account, at: datetime, materials: Iterable[str]
) -> tuple[Decision, dict[str, Any]]:
    """(decision, values to show again) of a decide post; unknown material keys are dropped."""
    known = set(materials)
    values: dict[str, Any] = {
        "step_id": str(form.get("step_id", "")),
        "action": str(form.get("action", "")),
        "opinion": str(form.get("opinion", "")).strip()[:OPINION_MAX],
        MATERIALS_FIELD: tuple(
            k for k in form.getlist(MATERIALS_FIELD) if isinstance(k, str) and k in known
        ),
    }
    decision = Decision(
        values["step_id"],
        values["action"],
        by,
        at,
        values["opinion"],
        values[MATERIALS_FIELD],
    )
    return decision, values
