"""Checks a catalog item file against docs/catalog-format.md; every problem is reported."""

from __future__ import annotations

import re
from typing import Any

from edge.catalog.item import TEXT_MAX

LEVELS = ("village", "township", "county")
MODES = ("direct", "forwarded")
MATERIAL_FORMS = ("original", "copy", "original_and_copy")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
FIELD_TYPES = ("text", "number", "date", "month", "choice", "id_number", "phone")
CODE = re.compile(r"^[A-Z]{2,4}-\d{3}$")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _text(value: Any, where: str, errors: list[str], *, allow_empty: bool = False) -> None:
    if not isinstance(value, dict) or set(value) != {"zh", "en"}:
        errors.append(f"{where}: needs exactly zh and en")
        return
    for lang in ("zh", "en"):
        if not isinstance(value[lang], str) or (not allow_empty and not value[lang].strip()):
            errors.append(f"{where}.{lang}: must be non-empty text")


def _texts(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, list) or not value:
        errors.append(f"{where}: needs at least one entry")
        return
    for index, entry in enumerate(value):
        _text(entry, f"{where}[{index}]", errors)


def _materials(item: dict[str, Any], errors: list[str]) -> None:
    materials = item.get("materials")
    if not isinstance(materials, list) or not materials:
        errors.append("materials: needs at least one entry")
        return
    keys = set()
    for index, material in enumerate(materials):
        where = f"materials[{index}]"
        if not KEY.match(str(material.get("key", ""))) or material["key"] in keys:
            errors.append(f"{where}.key: must be a unique snake_case key")
        keys.add(material.get("key"))
        if material.get("form") not in MATERIAL_FORMS:
            errors.append(f"{where}.form: must be one of {MATERIAL_FORMS}")
        if not isinstance(material.get("count"), int) or material["count"] < 1:
            errors.append(f"{where}.count: must be a positive integer")
        if not isinstance(material.get("required"), bool):
            errors.append(f"{where}.required: must be true or false")
        _text(material.get("name"), f"{where}.name", errors)
        _text(material.get("notes"), f"{where}.notes", errors, allow_empty=True)


def _route(item: dict[str, Any], departments: set[str], errors: list[str]) -> None:
    route = item.get("route")
    if not isinstance(route, list) or not route:
        errors.append("route: needs at least one stage")
        return
    total = 0
    for index, stage in enumerate(route):
        where = f"route[{index}]"
        if stage.get("level") not in LEVELS:
            errors.append(f"{where}.level: must be one of {LEVELS}")
        codes = stage.get("departments")
        if not isinstance(codes, list) or not codes or not set(codes) <= departments:
            errors.append(f"{where}.departments: must list known departments, got {codes}")
        if not isinstance(stage.get("days"), int) or stage["days"] < 0:
            errors.append(f"{where}.days: must be a whole number of working days")
        else:
            total += stage["days"]
        _text(stage.get("name"), f"{where}.name", errors)
    if isinstance(item.get("promised_days"), int) and total > item["promised_days"]:
        errors.append(f"route: stages take {total} days, more than promised_days")
    first = route[0]
    if item.get("mode") == "direct" and (len(route) != 1 or first.get("level") != "village"):
        errors.append("route: a direct item has exactly one village stage")
    if item.get("mode") == "forwarded" and first.get("level") != "township":
        errors.append("route: a forwarded item starts with a township stage")


def _field(field: dict[str, Any], where: str, errors: list[str]) -> None:
    if field.get("type") not in FIELD_TYPES:
        errors.append(f"{where}.type: must be one of {FIELD_TYPES}")
    if not isinstance(field.get("required"), bool):
        errors.append(f"{where}.required: must be true or false")
    _text(field.get("label"), f"{where}.label", errors)
    if "help" in field:
        _text(field["help"], f"{where}.help", errors, allow_empty=True)
    if field.get("type") == "choice":
        choices = field.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            errors.append(f"{where}.choices: a choice field needs at least two choices")
        else:
            for index, choice in enumerate(choices):
                if not str(choice.get("value", "")).strip():
                    errors.append(f"{where}.choices[{index}].value: must not be empty")
                _text(choice.get("label"), f"{where}.choices[{index}].label", errors)
    low, high = field.get("min"), field.get("max")
    if low is not None and high is not None and low > high:
        errors.append(f"{where}: min is greater than max")
    longest = field.get("max_length")
    if longest is not None and not (isinstance(longest, int) and 1 <= longest <= TEXT_MAX):
        errors.append(f"{where}.max_length: must be 1 to {TEXT_MAX}: the longest text we keep")


def _fields(item: dict[str, Any], errors: list[str]) -> None:
    fields = item.get("fields")
    if not isinstance(fields, list) or not fields:
        errors.append("fields: needs at least one e-form field")
        return
    names = set()
    for index, field in enumerate(fields):
        where = f"fields[{index}]"
        if not KEY.match(str(field.get("name", ""))) or field["name"] in names:
            errors.append(f"{where}.name: must be a unique snake_case name")
        names.add(field.get("name"))
        _field(field, where, errors)


def _age_check(check: dict[str, Any], where: str, id_fields: set[str], errors: list[str]) -> None:
    if check.get("of") != "applicant" and check.get("of") not in id_fields:
        errors.append(f"{where}.of: must be applicant or an id_number field of this item")
    bounds = [check.get("min"), check.get("max")]
    if all(b is None for b in bounds) or not all(
        b is None or (isinstance(b, int) and 0 <= b <= 130) for b in bounds
    ):
        errors.append(f"{where}: needs min and/or max, whole years 0 to 130")
    as_of = check.get("as_of")
    if as_of is not None and not (isinstance(as_of, str) and MONTH_DAY.match(as_of)):
        errors.append(f"{where}.as_of: must be a day of the year like 08-31")
    _text(check.get("rule"), f"{where}.rule", errors)


def _age_checks(item: dict[str, Any], errors: list[str]) -> None:
    fields = item.get("fields")
    listed = fields if isinstance(fields, list) else []
    id_fields = {f.get("name") for f in listed if f.get("type") == "id_number"}
    for index, check in enumerate(item.get("age_checks", [])):
        _age_check(check, f"age_checks[{index}]", id_fields, errors)


def check_item(item: dict[str, Any], departments: set[str]) -> list[str]:
    """Every way `item` falls short of the format; empty when it is complete."""
    errors: list[str] = []
    if not CODE.match(str(item.get("code", ""))):
        errors.append("code: must look like MZ-001")
    if item.get("department") not in departments:
        errors.append(f"department: unknown {item.get('department')!r}")
    if item.get("level") not in LEVELS:
        errors.append(f"level: must be one of {LEVELS}")
    if item.get("mode") not in MODES:
        errors.append(f"mode: must be one of {MODES}")
    if item.get("mode") == "direct" and item.get("level") != "village":
        errors.append("level: a direct item is handled at village level")
    statutory, promised = item.get("statutory_days"), item.get("promised_days")
    if not (isinstance(statutory, int) and isinstance(promised, int) and 0 < promised <= statutory):
        errors.append("promised_days: must be 1..statutory_days working days")
    keywords = item.get("keywords")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        errors.append("keywords: must be a list of words")
    for key in ("name", "fee", "where"):
        _text(item.get(key), key, errors)
    for key in ("legal_basis", "conditions", "process"):
        _texts(item.get(key), key, errors)
    _materials(item, errors)
    _route(item, departments, errors)
    _fields(item, errors)
    _age_checks(item, errors)
    return errors
