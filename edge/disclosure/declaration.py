"""What a results disclosure shows of a case, as the catalog item declares it (`[disclosure]`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from edge.catalog.item import Bilingual
from edge.catalog.schema import DISCLOSURE_FIELDS


@dataclass(frozen=True)
class Declaration:
    """The case fields shown, and the e-form answers added (name, label), for one item."""

    fields: tuple[str, ...]
    form_fields: tuple[tuple[str, Bilingual], ...]

    def shows(self, field: str) -> bool:
        """Whether the public template of this item shows `field`."""
        return field in self.fields


def declared(body: dict[str, Any]) -> Declaration:
    """The item's declaration, or the minimal default set when it declares none."""
    declared = body.get("disclosure", {})
    labels = {f["name"]: Bilingual.from_dict(f["label"]) for f in body.get("fields", [])}
    return Declaration(
        tuple(declared.get("fields", DISCLOSURE_FIELDS)),
        tuple((name, labels[name]) for name in declared.get("form_fields", [])),
    )


def declared_from_json(body: str) -> Declaration:
    """The declaration of an item stored as JSON (catalog_items.body)."""
    return declared(json.loads(body))
