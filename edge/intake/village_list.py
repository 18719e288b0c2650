"""The agent home's list of the village's applications, each row's text made once in Python
(a template call per field of 50 rows was most of the page's rendering, issue 17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from edge.applications import states
from edge.applications.tracking_code import format_code
from edge.kernel.i18n import format_date, pick
from edge.kernel.masking import mask_name
from edge.kernel.urls import path_for


@dataclass(frozen=True, slots=True)
class Listed:
    """One application as the list shows it: link, service, code, masked applicant, status."""

    href: str
    item: str
    code: str
    applicant: str
    status: str
    status_label: str
    submitted: str


def listed(request: Request, rows: Iterable[Any]) -> list[Listed]:
    """The rows of `queries.village_applications` in the request's language."""
    return [
        Listed(
            href=path_for(request, "intake:application", application_id=row["id"]),
            item=pick(row["item_name_zh"], row["item_name_en"]),
            code=format_code(row["tracking_code"]),
            applicant=mask_name(row["applicant_name"]),
            status=row["status"],
            status_label=states.label(row["status"]),
            submitted=format_date(row["submitted_on"]),
        )
        for row in rows
    ]
