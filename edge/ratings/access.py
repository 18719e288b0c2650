"""Who may see and act on a follow-up (谁办理、谁负责); nobody but the applicant sees a rating
from the public side, and agents see none."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import Account

FOLLOW_UP_ROLES = ("township_staff", "officer", "supervisor")


def may_view(account: Account, follow_up: Any) -> bool:
    """Staff of the jurisdiction; an officer only their department's cases."""
    if account.role not in FOLLOW_UP_ROLES:
        return False
    if not contains(account.jurisdiction_code, follow_up["village_code"]):
        return False
    return account.role != "officer" or account.department_code == follow_up["office_code"]


def may_act(account: Account, follow_up: Any) -> bool:
    """The unit that handled the step: the township office for village and township steps,
    the department's officer for a county step decided here (else it is handled at central)."""
    if not may_view(account, follow_up) or follow_up["handled_at"] != "edge":
        return False
    if follow_up["office_level"] == "county":
        return account.role == "officer"
    return account.role == "township_staff"


def channel_of(request: Request, default: str) -> str:
    """A rating typed while someone is signed in on the device is an agent's or staff device's."""
    return "agent_device" if request.scope.get("account") is not None else default
