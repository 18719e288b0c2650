"""Who may see an application: jurisdiction, role, department (who may decide: decision.py)."""

from __future__ import annotations

from collections.abc import Iterable

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
