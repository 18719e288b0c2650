"""The review queue's rows, overdue (red) first, each row's text made once in Python (a
template call per field was most of the page's rendering, issue 17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from edge.applications.tracking_code import format_code
from edge.kernel.i18n import format_date, pick
from edge.kernel.i18n import gettext as _
from edge.kernel.masking import mask_name
from edge.kernel.urls import path_for
from edge.workdays.arithmetic import CARD_LABELS, CARD_ORDER
from edge.workdays.working_days import WorkingDays


@dataclass(frozen=True, slots=True)
class Waiting:
    """One step waiting for a decision as the queue shows it."""

    card: str  # green, yellow, red
    card_label: str
    href: str
    item: str
    code: str
    village: str
    applicant: str
    step: str
    due: str


def waiting(request: Request, rows: Iterable[Any], days: WorkingDays) -> list[Waiting]:
    """The rows of `queries.review_queue` by card (red, yellow, green), then due date."""
    carded = sorted(
        ((days.card(row["due_on"]), row) for row in rows),
        key=lambda pair: (CARD_ORDER[pair[0]], pair[1]["due_on"]),
    )
    return [
        Waiting(
            card=card,
            card_label=str(CARD_LABELS[card]),
            href=path_for(request, "review:application", application_id=row["id"]),
            item=pick(row["item_name_zh"], row["item_name_en"]),
            code=format_code(row["tracking_code"]),
            village=pick(row["village_zh"], row["village_en"]),
            applicant=mask_name(row["applicant_name"]),
            step=pick(row["name_zh"], row["name_en"]),
            due=_("期限 %(date)s") % {"date": format_date(row["due_on"])},
        )
        for card, row in carded
    ]
