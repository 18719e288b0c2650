"""Results disclosure (办理结果公开): a decided case in its public form, masked (PIPL art. 28).

Node-agnostic: the edge and central queries return the same columns; only what the item's
declaration allows leaves this module, never an ID number, a phone, an address or free text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.catalog.item import Bilingual
from edge.disclosure.declaration import Declaration, declared_from_json
from edge.kernel.masking import mask_name

PAGE_SIZE = 20
DECIDED = ("approved", "rejected")


@dataclass(frozen=True)
class ResultFilter:
    """What the visitor asked the list for; empty strings mean everything."""

    village: str = ""
    item: str = ""
    month: str = ""
    page: int = 1

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * PAGE_SIZE


@dataclass(frozen=True)
class PublicCase:
    """One decided case as the public sees it; None for a field the item does not disclose."""

    id: str
    item_code: str
    item: Bilingual
    village: Bilingual
    applicant: str | None
    decision: str
    decided_on: str
    on_time: bool | None
    extra: tuple[tuple[Bilingual, str], ...]

    def line(self) -> str:
        """The case as one line of plain Chinese text, for a sealed sheet."""
        parts = [self.decided_on, self.village.zh, self.item.zh]
        if self.applicant:
            parts.append(self.applicant)
        parts.append("批准" if self.decision == "approved" else "不予批准")
        if self.on_time is not None:
            parts.append("按时办结" if self.on_time else "超期办结")
        parts += [f"{label.zh}{value}" for label, value in self.extra]
        return " ".join(parts)


def _extra(declaration: Declaration, form_data: str) -> tuple[tuple[Bilingual, str], ...]:
    answers = json.loads(form_data or "{}")
    return tuple(
        (label, str(answers[name]))
        for name, label in declaration.form_fields
        if str(answers.get(name, "")).strip()
    )


def public_case(row: Mapping[str, Any], declarations: dict[str, Declaration]) -> PublicCase:
    """A result row in its public form; `declarations` caches parsed item bodies by code."""
    code = row["item_code"]
    if code not in declarations:
        declarations[code] = declared_from_json(row["body"])
    declaration = declarations[code]
    decided_on = str(row["finished_at"])[:10]
    return PublicCase(
        id=row["id"],
        item_code=code,
        item=Bilingual(row["item_zh"], row["item_en"]),
        village=Bilingual(row["village_zh"], row["village_en"]),
        applicant=mask_name(row["applicant_name"]) if declaration.shows("applicant") else None,
        decision=row["status"],
        decided_on=decided_on,
        on_time=decided_on <= row["promised_due_on"] if declaration.shows("on_time") else None,
        extra=_extra(declaration, row["form_data"]),
    )


def public_cases(rows: list[Any]) -> list[PublicCase]:
    """Rows in their public form, parsing each item's declaration once."""
    declarations: dict[str, Declaration] = {}
    return [public_case(row, declarations) for row in rows]


def pages(total: int) -> int:
    """How many pages `total` cases fill (at least one)."""
    return max(1, -(-total // PAGE_SIZE))
