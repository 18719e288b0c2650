"""An application and its steps as typed records, built once from the rows queries.py reads
(and from central's ingested copies, which have the same columns plus node_id)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from edge.catalog.item import CatalogItem


@dataclass(frozen=True)
class Step:
    """One department's step at one stage, with the department's name."""

    id: str
    application_id: str
    stage: int
    level: str
    department_code: str
    name_zh: str
    name_en: str
    days: int
    status: str
    started_on: str | None
    due_on: str | None
    decided_by: str | None
    decided_at: str | None
    opinion: str
    department_zh: str
    department_en: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Step:
        """From a `steps` row joined with its department's names."""
        return cls(**fields_from_row(cls, row))


@dataclass(frozen=True)
class Application:
    """An application with its e-form values, its catalog item and its item and village names."""

    id: str
    tracking_code: str
    item_code: str
    village_code: str
    agent_id: str
    # personal data: never in a repr, so a log line or traceback that prints a record shows none
    applicant_id_number: str = field(repr=False)
    applicant_name: str = field(repr=False)
    applicant_phone: str = field(repr=False)
    form_data: Mapping[str, str] = field(repr=False)
    status: str
    stage: int
    submitted_at: str
    submitted_on: str
    promised_due_on: str
    paused_on: str | None
    finished_at: str | None
    withdrawn_reason: str | None
    item: CatalogItem
    item_name_zh: str
    item_name_en: str
    village_zh: str
    village_en: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Application:
        """From an `applications` row joined with its item (`item_body`) and village names."""
        return cls(**fields_from_row(cls, row, **cls.parsed(row)))

    @staticmethod
    def parsed(row: sqlite3.Row) -> dict[str, Any]:
        """The fields stored as JSON: the e-form values and the catalog item."""
        return {
            "form_data": json.loads(row["form_data"]),
            "item": CatalogItem.from_body(row["item_body"]),
        }


def fields_from_row(cls: type[Any], row: sqlite3.Row, **parsed: Any) -> dict[str, Any]:
    """Each field of the dataclass `cls` from the row's column of the same name, except those
    given already `parsed`."""
    return {f.name: parsed[f.name] if f.name in parsed else row[f.name] for f in fields(cls)}
