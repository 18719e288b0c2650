"""The real name of the office that holds a seal key: 平田村村民委员会, 合浦县民政局.

Seal offices are written as a village code (a village committee), or as
`<jurisdiction code>:<department code>` (a department of a county or township).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class OfficeName:
    """An office's name in Chinese and English."""

    zh: str
    en: str


def committee(zh: str, en: str) -> OfficeName:
    """A village's (or a community's) committee."""
    if zh.endswith("社区"):
        return OfficeName(f"{zh}居民委员会", f"{en} Residents' Committee")
    return OfficeName(f"{zh}村民委员会", f"{en} Committee")


async def _row(db: aiosqlite.Connection, sql: str, key: str) -> aiosqlite.Row | None:
    async with db.execute(sql, (key,)) as cursor:
        return await cursor.fetchone()


async def office_name(db: aiosqlite.Connection, office: str) -> OfficeName:
    """The office's name from the jurisdiction tree and the departments; the raw office
    string only when the node does not know the place (never an empty name)."""
    place_code, _sep, department_code = office.partition(":")
    place = await _row(
        db, "SELECT name_zh, name_en, level FROM jurisdictions WHERE code = ?", place_code
    )
    if place is None:
        return OfficeName(office, office)
    if not department_code or department_code == "village":
        if place["level"] == "village":
            return committee(place["name_zh"], place["name_en"])
        return OfficeName(place["name_zh"], place["name_en"])
    department = await _row(
        db, "SELECT name_zh, name_en FROM departments WHERE code = ?", department_code
    )
    if department is None:
        return OfficeName(
            f"{place['name_zh']}{department_code}", f"{place['name_en']} {department_code}"
        )
    return OfficeName(
        f"{place['name_zh']}{department['name_zh']}",
        f"{place['name_en']} {department['name_en']}",
    )
