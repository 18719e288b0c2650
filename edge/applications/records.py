"""An application and its steps as typed records, built once from the rows queries.py reads
(and from central's ingested copies, which have the same columns plus node_id)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
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
        return cls(
            id=row["id"],
            application_id=row["application_id"],
            stage=row["stage"],
            level=row["level"],
            department_code=row["department_code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            days=row["days"],
            status=row["status"],
            started_on=row["started_on"],
            due_on=row["due_on"],
            decided_by=row["decided_by"],
            decided_at=row["decided_at"],
            opinion=row["opinion"],
            department_zh=row["department_zh"],
            department_en=row["department_en"],
        )


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
    item: CatalogItem
    item_name_zh: str
    item_name_en: str
    village_zh: str
    village_en: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Application:
        """From an `applications` row joined with its item (`item_body`) and village names."""
        return cls(**cls.columns(row))

    @staticmethod
    def columns(row: sqlite3.Row) -> dict[str, Any]:
        """The record's fields read from the row, for records that add their own."""
        return {
            "id": row["id"],
            "tracking_code": row["tracking_code"],
            "item_code": row["item_code"],
            "village_code": row["village_code"],
            "agent_id": row["agent_id"],
            "applicant_id_number": row["applicant_id_number"],
            "applicant_name": row["applicant_name"],
            "applicant_phone": row["applicant_phone"],
            "form_data": json.loads(row["form_data"]),
            "status": row["status"],
            "stage": row["stage"],
            "submitted_at": row["submitted_at"],
            "submitted_on": row["submitted_on"],
            "promised_due_on": row["promised_due_on"],
            "paused_on": row["paused_on"],
            "finished_at": row["finished_at"],
            "item": CatalogItem.from_body(row["item_body"]),
            "item_name_zh": row["item_name_zh"],
            "item_name_en": row["item_name_en"],
            "village_zh": row["village_zh"],
            "village_en": row["village_en"],
        }
