"""What a results disclosure shows of a case, as the catalog item declares it (`[disclosure]`)."""

from __future__ import annotations

from dataclasses import dataclass

from edge.catalog.item import Bilingual, CatalogItem
from edge.catalog.schema import DISCLOSURE_FIELDS


@dataclass(frozen=True)
class Declaration:
    """The case fields shown, and the e-form answers added (name, label), for one item."""

    fields: tuple[str, ...]
    form_fields: tuple[tuple[str, Bilingual], ...]

    def shows(self, field: str) -> bool:
        """Whether the public template of this item shows `field`."""
        return field in self.fields


def declared(item: CatalogItem) -> Declaration:
    """The item's declaration, or the minimal default set when it declares none."""
    declared = item.disclosure
    labels = {field.name: field.label for field in item.fields}
    return Declaration(
        (declared.fields if declared else ()) or DISCLOSURE_FIELDS,
        tuple((name, labels[name]) for name in (declared.form_fields if declared else ())),
    )


def declared_from_json(body: str) -> Declaration:
    """The declaration of an item stored as JSON (catalog_items.body)."""
    return declared(CatalogItem.from_body(body))
