"""One service item as a typed record, built once from the body the loader stored (the item file
as JSON, docs/catalog-format.md): names, materials, e-form fields, route stages, time limits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# the longest free text an e-form field keeps (a field that declares no max_length: 200); one
# that takes MULTILINE_FROM characters or more is a box of several lines
TEXT_MAX = 500
TEXT_DEFAULT = 200
MULTILINE_FROM = 100


@dataclass(frozen=True)
class Bilingual:
    """Catalog text: Chinese (authoritative) and English."""

    zh: str
    en: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bilingual:
        """From the item file's `{zh = ..., en = ...}`."""
        return cls(data["zh"], data["en"])


def _texts(entries: list[Mapping[str, Any]]) -> tuple[Bilingual, ...]:
    return tuple(Bilingual.from_dict(entry) for entry in entries)


@dataclass(frozen=True)
class Material:
    """A material the applicant brings; the agent photographs one per material."""

    key: str
    form: str
    count: int
    required: bool
    name: Bilingual
    notes: Bilingual

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Material:
        """From one `[[materials]]` entry."""
        return cls(
            data["key"],
            data["form"],
            data["count"],
            data["required"],
            Bilingual.from_dict(data["name"]),
            Bilingual.from_dict(data["notes"]),
        )


@dataclass(frozen=True)
class Stage:
    """A stage of the workflow: one department, or several reviewing jointly (联审)."""

    level: str
    departments: tuple[str, ...]
    days: int
    name: Bilingual

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        """From one `[[route]]` entry."""
        return cls(
            data["level"],
            tuple(data["departments"]),
            data["days"],
            Bilingual.from_dict(data["name"]),
        )


@dataclass(frozen=True)
class Choice:
    """One answer a choice field offers."""

    value: str
    label: Bilingual

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Choice:
        """From one `[[fields.choices]]` entry."""
        return cls(str(data["value"]), Bilingual.from_dict(data["label"]))


@dataclass(frozen=True)
class Field:
    """An e-form field filled at intake, with the limits its type allows (None: no limit)."""

    name: str
    type: str
    required: bool
    label: Bilingual
    help: Bilingual | None = None
    choices: tuple[Choice, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    past_only: bool | None = None
    future_only: bool | None = None

    @property
    def longest(self) -> int:
        """How many characters the field takes (server and form alike): what the item declares,
        at most TEXT_MAX."""
        return min(TEXT_DEFAULT if self.max_length is None else self.max_length, TEXT_MAX)

    @property
    def multiline(self) -> bool:
        """A text long enough to be written in a box of several lines."""
        return self.type == "text" and self.longest >= MULTILINE_FROM

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Field:
        """From one `[[fields]]` entry."""
        return cls(
            data["name"],
            data["type"],
            data["required"],
            Bilingual.from_dict(data["label"]),
            Bilingual.from_dict(data["help"]) if "help" in data else None,
            tuple(Choice.from_dict(choice) for choice in data.get("choices", ())),
            data.get("min"),
            data.get("max"),
            data.get("min_length"),
            data.get("max_length"),
            data.get("past_only"),
            data.get("future_only"),
        )


@dataclass(frozen=True)
class AgeCheck:
    """A condition intake checks from an ID number: the person's age in whole years, on the
    day of intake or, with `as_of` ("08-31"), on the next such day (a school year's cut-off)."""

    of: str  # "applicant", or the name of an id_number field (e.g. child_id_number)
    min: int | None
    max: int | None
    as_of: str | None
    rule: Bilingual  # the condition in the guide's words, quoted when intake refuses

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgeCheck:
        """From one `[[age_checks]]` entry."""
        return cls(
            data["of"],
            data.get("min"),
            data.get("max"),
            data.get("as_of"),
            Bilingual.from_dict(data["rule"]),
        )


@dataclass(frozen=True)
class CatalogItem:
    """A service item of the catalog, as its file describes it."""

    code: str
    department: str
    level: str
    mode: str
    statutory_days: int
    promised_days: int
    keywords: tuple[str, ...]
    name: Bilingual
    fee: Bilingual
    where: Bilingual
    legal_basis: tuple[Bilingual, ...]
    conditions: tuple[Bilingual, ...]
    process: tuple[Bilingual, ...]
    materials: tuple[Material, ...]
    route: tuple[Stage, ...]
    fields: tuple[Field, ...]
    age_checks: tuple[AgeCheck, ...] = ()

    @classmethod
    def from_body(cls, body: str) -> CatalogItem:
        """From the JSON body `catalog_items` stores (on the edge and at central)."""
        return cls.from_dict(json.loads(body))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CatalogItem:
        """From a checked item file, parsed."""
        return cls(
            code=data["code"],
            department=data["department"],
            level=data["level"],
            mode=data["mode"],
            statutory_days=data["statutory_days"],
            promised_days=data["promised_days"],
            keywords=tuple(data["keywords"]),
            name=Bilingual.from_dict(data["name"]),
            fee=Bilingual.from_dict(data["fee"]),
            where=Bilingual.from_dict(data["where"]),
            legal_basis=_texts(data["legal_basis"]),
            conditions=_texts(data["conditions"]),
            process=_texts(data["process"]),
            materials=tuple(Material.from_dict(m) for m in data["materials"]),
            route=tuple(Stage.from_dict(stage) for stage in data["route"]),
            fields=tuple(Field.from_dict(field) for field in data["fields"]),
            age_checks=tuple(AgeCheck.from_dict(c) for c in data.get("age_checks", ())),
        )

    @property
    def route_departments(self) -> list[str]:
        """Every department with a stage on the route, in route order (repeats kept)."""
        return [code for stage in self.route for code in stage.departments]

    @property
    def material_keys(self) -> list[str]:
        """The keys of the materials, in catalog order."""
        return [material.key for material in self.materials]
