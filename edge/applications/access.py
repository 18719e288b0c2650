"""Who may see an application and who may decide a step: jurisdiction, role, department."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import Account

REVIEW_ROLES = ("township_staff", "officer", "supervisor")


def can_view(account: Account, village_code: str, departments: Iterable[str]) -> bool:
    """Agents see their own village; officers their department's; others their jurisdiction."""
    if not contains(account.jurisdiction_code, village_code):
        return False
    if account.role == "agent":
        return account.jurisdiction_code == village_code
    if account.role == "officer":
        return account.department_code in set(departments)
    return account.role in ("township_staff", "supervisor")


def can_decide(
    account: Account, step: Any, village_code: str, county_at_central: bool = False
) -> bool:
    """Township staff decide township steps; officers decide their department's steps.

    On a node connected to central, county steps are decided only at central (one writer).
    """
    if step["status"] != "active" or not contains(account.jurisdiction_code, village_code):
        return False
    if step["level"] == "township":
        return account.role == "township_staff"
    if step["level"] == "county" and not county_at_central:
        return account.role == "officer" and account.department_code == step["department_code"]
    return False
