"""A decision on one step (approve, reject, return), who may make it and the rules it keeps.

Both nodes judge decisions only here: the township's and central's forms, the feed that brings
central's decisions down, the deadline scan's choice of whom to remind, and lifecycle.decide.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from babel.support import LazyProxy

from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import Account
from edge.kernel.i18n import in_locale, lazy_gettext
from edge.kernel.text_input import text_problem

OUTCOMES = ("approve", "reject", "return")
NEEDS_REASONS = ("reject", "return")

NO_SUCH_STEP = lazy_gettext("没有这个办理环节。")
NOT_YOUR_DEPARTMENT = lazy_gettext("这个环节不归您的部门办理。")
OUTSIDE_JURISDICTION = lazy_gettext("这件申请不在您的辖区。")
DECIDED_AT_CENTRAL = lazy_gettext("这一步不由您办理：本镇的县级环节由县级部门在市平台办理。")
NOT_OPEN = lazy_gettext("这个环节现在不能办理（可能已经办结或退回）。")
NO_OUTCOME = lazy_gettext("请选择办理结果。")
NO_REASONS = lazy_gettext("不予批准或退回补正时必须写明理由。")
NO_MATERIALS = lazy_gettext("退回补正时请勾选需要补正的材料。")


@dataclass(frozen=True)
class Decision:
    """What `by` decided on one step: the outcome, the opinion (the reasons of a rejection or
    return) and, for a return, the materials to bring (一次性告知); `at` is when the node
    judging it took it (central's officer form, the township's form, or the feed)."""

    step_id: str
    outcome: str
    by: Account
    at: datetime
    opinion: str = ""
    material_keys: tuple[str, ...] = ()


class DecidableStep(Protocol):
    """What the rules read of a step: a Step record (edge, or central's copy), or a StepState."""

    @property
    def level(self) -> str:
        """village, township or county."""

    @property
    def department_code(self) -> str:
        """The department that decides it."""

    @property
    def status(self) -> str:
        """The step's status (only an active step may be decided)."""


@dataclass(frozen=True)
class StepState:
    """A step's level, department and status, read from a row that joins the step with its
    application (the deadline scan's, central's step to decide)."""

    level: str
    department_code: str
    status: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StepState:
        """From the row's step columns `level`, `department_code` and `status`."""
        return cls(row["level"], row["department_code"], row["status"])


class DecisionRefused(Exception):
    """A decision that may not be made; the message says why, in the reader's language."""

    def __init__(self, message: str | LazyProxy) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)

    def in_locale(self, locale: str) -> str:
        """The reason in `locale`, for a record kept in one language (the feed's)."""
        with in_locale(locale):
            return str(self.message)


def refusal(
    actor: Account,
    step: DecidableStep,
    village_code: str,
    app_status: str,
    county_steps_here: bool = True,
) -> LazyProxy | None:
    """Why `actor` may not decide `step` of an application of `village_code` now, or None.

    Township staff decide township steps, a department's officers its county steps, inside
    their jurisdiction, while the step and its application wait for a decision. Where county
    steps are decided at central (a connected node), nobody decides them locally.
    """
    if step.level == "township":
        allowed = actor.role == "township_staff"
    else:
        allowed = (
            step.level == "county"
            and actor.role == "officer"
            and actor.department_code == step.department_code
        )
    if not allowed:
        return NOT_YOUR_DEPARTMENT
    if not contains(actor.jurisdiction_code, village_code):
        return OUTSIDE_JURISDICTION
    if step.status != "active" or app_status != "in_review":
        return NOT_OPEN
    if step.level == "county" and not county_steps_here:
        return DECIDED_AT_CENTRAL
    return None


def may_decide(
    actor: Account,
    step: DecidableStep,
    village_code: str,
    app_status: str,
    county_steps_here: bool = True,
) -> bool:
    """Whether `actor` may decide `step` now (see `refusal`)."""
    return refusal(actor, step, village_code, app_status, county_steps_here) is None


def check(decision: Decision) -> dict[str, LazyProxy]:
    """The rules of a decision, by form field: an outcome; reasons for a rejection or a
    return, as text that may be stored (kernel.text_input); the materials to bring for a
    return. Empty when every rule is kept."""
    if decision.outcome not in OUTCOMES:
        return {"action": NO_OUTCOME}
    errors: dict[str, LazyProxy] = {}
    if bad_text := text_problem(decision.opinion, multiline=True):
        errors["opinion"] = bad_text
    elif decision.outcome in NEEDS_REASONS and not decision.opinion.strip():
        errors["opinion"] = NO_REASONS
    if decision.outcome == "return" and not decision.material_keys:
        errors["materials"] = NO_MATERIALS
    return errors


def enforce(
    decision: Decision,
    step: DecidableStep,
    village_code: str,
    app_status: str,
    county_steps_here: bool = True,
) -> None:
    """Raise DecisionRefused unless the decider may decide the step and every rule is kept."""
    reason = refusal(decision.by, step, village_code, app_status, county_steps_here)
    if reason is not None:
        raise DecisionRefused(reason)
    errors = check(decision)
    if errors:
        raise DecisionRefused(next(iter(errors.values())))
