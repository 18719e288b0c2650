"""The township's decision form -> a Decision; decision.check says what it lacks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData

from edge.applications.decision import Decision
from edge.kernel.auth.account import Account

OPINION_MAX = 500


def parse_decision(
    form: FormData, step_id: str, by: Account, at: datetime, materials: Iterable[str]
) -> tuple[Decision, dict[str, Any]]:
    """(decision, values to show again) of a decision post; unknown material keys are dropped."""
    known = set(materials)
    action = str(form.get("action", ""))
    opinion = str(form.get("opinion", "")).strip()[:OPINION_MAX]
    chosen = tuple(k for k in form.getlist("materials") if isinstance(k, str) and k in known)
    decision = Decision(step_id, action, by, at, opinion, chosen)
    return decision, {"action": action, "opinion": opinion, "materials": chosen}
