"""Checks the power list files (powers.toml, areas/*.toml); every problem is reported."""

from __future__ import annotations

import re
from typing import Any

POWER_CODE = re.compile(r"^[A-Z]{2}-\d{2}$")
AREA_CODE = re.compile(r"^[A-Z]{2}$")
ITEM_CODE = re.compile(r"^[A-Z]{2,4}-\d{3}$")
TEXT_LISTS = ("legal_basis", "conditions", "materials")
TEXTS = ("name", "time_limit", "disclosure")


def check_text(value: Any, where: str, errors: list[str]) -> None:
    """A bilingual text: exactly zh and en, both non-empty."""
    if not isinstance(value, dict) or set(value) != {"zh", "en"}:
        errors.append(f"{where}: needs exactly zh and en")
        return
    for lang in ("zh", "en"):
        if not isinstance(value[lang], str) or not value[lang].strip():
            errors.append(f"{where}.{lang}: must be non-empty text")


def _text_list(value: Any, where: str, errors: list[str]) -> None:
    if not isinstance(value, list) or not value:
        errors.append(f"{where}: needs at least one entry")
        return
    for index, entry in enumerate(value):
        check_text(entry, f"{where}[{index}]", errors)


def _steps(power: dict[str, Any], bodies: set[str], errors: list[str]) -> None:
    steps = power.get("steps")
    if not isinstance(steps, list) or len(steps) < 2:
        errors.append("steps: a flow needs at least two steps")
        return
    for index, step in enumerate(steps):
        where = f"steps[{index}]"
        if step.get("actor") not in bodies:
            errors.append(f"{where}.actor: unknown body {step.get('actor')!r}")
        for key in ("action", "limit", "output"):
            check_text(step.get(key), f"{where}.{key}", errors)


def check_power(
    power: dict[str, Any], area: str, bodies: set[str], items: set[str] | None
) -> list[str]:
    """Every way `power` falls short of the format; `items` None skips the catalog check."""
    errors: list[str] = []
    code = str(power.get("code", ""))
    if not POWER_CODE.match(code) or not code.startswith(f"{area}-"):
        errors.append(f"code: must look like {area}-01")
    for key in TEXTS:
        check_text(power.get(key), key, errors)
    for key in TEXT_LISTS:
        _text_list(power.get(key), key, errors)
    deciders = power.get("deciders")
    if not isinstance(deciders, list) or not deciders or not set(deciders) <= bodies:
        errors.append(f"deciders: must list known bodies, got {deciders}")
    covered = power.get("items", [])
    if not isinstance(covered, list) or not all(ITEM_CODE.match(str(c)) for c in covered):
        errors.append("items: must be a list of catalog item codes")
    elif items is not None and not set(covered) <= items:
        errors.append(f"items: unknown catalog items {sorted(set(covered) - items)}")
    _steps(power, bodies, errors)
    return errors


def check_head(head: dict[str, Any]) -> list[str]:
    """The shared part: version, supervision channel, bodies and areas."""
    errors: list[str] = []
    if not head.get("version"):
        errors.append("powers.toml: version is missing")
    check_text(head.get("supervision"), "supervision", errors)
    if not re.fullmatch(r"[0-9-]{5,13}", str(head.get("supervision_phone", ""))):
        errors.append("supervision_phone: must be a telephone number")
    for key in ("bodies", "areas"):
        entries = head.get(key)
        if not isinstance(entries, list) or not entries:
            errors.append(f"{key}: needs at least one entry")
            continue
        for index, entry in enumerate(entries):
            check_text(entry.get("name"), f"{key}[{index}].name", errors)
    for index, area in enumerate(head.get("areas", [])):
        if not AREA_CODE.match(str(area.get("code", ""))):
            errors.append(f"areas[{index}].code: must be two capital letters")
    return errors
