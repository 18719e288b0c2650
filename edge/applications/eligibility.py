"""Conditions intake can check itself: ages read from ID numbers (the catalog's `age_checks`),
refused at intake with the rule and the age it found, so nobody waits weeks for a sure no."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from edge.catalog.item import AgeCheck, CatalogItem
from edge.kernel import id_numbers
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import pick


def age_day(check: AgeCheck, today: date) -> date:
    """The day the age counts on: today, or the next `as_of` day (this year's, or next)."""
    if check.as_of is None:
        return today
    month, day = (int(part) for part in check.as_of.split("-"))
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def _problem(check: AgeCheck, birth: date, today: date) -> str | None:
    on = age_day(check, today)
    age = id_numbers.age_between(birth, on)
    if (check.min is None or age >= check.min) and (check.max is None or age <= check.max):
        return None
    rule = pick(check.rule.zh, check.rule.en)
    if check.as_of is None:
        return _("不符合办理条件：%(rule)s。按身份证号码，现在是 %(age)s 周岁。") % {
            "rule": rule,
            "age": age,
        }
    return _("不符合办理条件：%(rule)s。按身份证号码，到 %(day)s 是 %(age)s 周岁。") % {
        "rule": rule,
        "day": on.isoformat(),
        "age": age,
    }


def _birth(check: AgeCheck, applicant_birth: date | None, fields: Mapping[str, str]) -> date | None:
    if check.of == "applicant":
        return applicant_birth
    return id_numbers.birth_date_of(id_numbers.normalize(fields.get(check.of, "")))


def problems(
    item: CatalogItem, applicant_birth: date | None, fields: Mapping[str, str], today: date
) -> dict[str, str]:
    """The form's keys (id_number, f_<field>) whose person fails an age condition, with why;
    an ID number that is missing or wrong is left to the field's own check."""
    found: dict[str, str] = {}
    for check in item.age_checks:
        birth = _birth(check, applicant_birth, fields)
        key = "id_number" if check.of == "applicant" else f"f_{check.of}"
        if birth is not None and key not in found and (problem := _problem(check, birth, today)):
            found[key] = problem
    return found
