"""What a village certificate (证明) certifies: its e-form's facts as the seal carries them.

The certificate goes from the resident to a third party (a school, an employer), so it names
the applicant in full; ID numbers (the applicant's and any in the form) and phones are masked
as everywhere else: the third party checks identity against the ID card itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.applications.records import Application
from edge.catalog.item import CatalogItem, Field
from edge.kernel.i18n import pick
from edge.kernel.masking import mask_id_number, mask_phone

KIND = "village_certificate"


def _sealed_value(field: Field, value: str) -> str:
    if field.type == "id_number":
        return mask_id_number(value)
    if field.type == "phone":
        return mask_phone(value)
    return value.strip()


def facts(app: Application) -> dict[str, str]:
    """The e-form's answers in the item's order, masked where they identify someone."""
    return {
        field.name: _sealed_value(field, app.form_data[field.name])
        for field in app.item.fields
        if app.form_data.get(field.name, "").strip()
    }


def certificate_payload(app: Application) -> dict[str, Any]:
    """What a village certificate's seal adds to a decision's: the full name and the facts."""
    return {"applicant_name": app.applicant_name, "facts": facts(app)}


@dataclass(frozen=True)
class Fact:
    """One certified fact as a reader sees it: the field's label and the answer's words."""

    name: str
    label: str
    value: str


def shown(field: Field, value: str) -> str:
    """A choice's label instead of its stored value; other answers as they are."""
    for choice in field.choices:
        if choice.value == value:
            return pick(choice.label.zh, choice.label.en)
    return value


def readable_facts(item: CatalogItem, sealed: Mapping[str, Any]) -> list[Fact]:
    """The sealed facts in the item's order, labelled from it; a field the item no longer has
    keeps its stored name (after the others), so nothing sealed is hidden."""
    by_name = {field.name: field for field in item.fields}
    order = [name for name in by_name if name in sealed]
    order += [name for name in sealed if name not in by_name]
    rows = []
    for name in order:
        field = by_name.get(name)
        text = str(sealed[name])
        if field is None:
            rows.append(Fact(name, name, text))
        else:
            rows.append(Fact(name, pick(field.label.zh, field.label.en), shown(field, text)))
    return rows
