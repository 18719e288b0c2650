"""Read and check the power list files once; the list ships with the code, like the catalog."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from edge.catalog.item import Bilingual
from edge.catalog.loader import read_parts
from edge.powers.power import Area, Power
from edge.powers.schema import check_head, check_power

POWERS_DIR = Path(__file__).parent


class PowerListError(ValueError):
    """The power list files are incomplete or inconsistent."""


@dataclass(frozen=True)
class PowerList:
    """The checked list: areas in order, each power by code, the bodies that act."""

    version: str
    areas: tuple[Area, ...]
    bodies: dict[str, Bilingual]
    supervision: Bilingual
    supervision_phone: str

    def power(self, code: str) -> Power | None:
        """One power by code, or None."""
        return next((p for a in self.areas for p in a.powers if p.code == code), None)

    @property
    def count(self) -> int:
        """How many powers the list holds."""
        return sum(len(area.powers) for area in self.areas)


def _area_files(directory: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((directory / "areas").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if data.get("area") != path.stem:
            raise PowerListError(f"{path.name}: file name must be the area code")
        found[path.stem] = data.get("powers", [])
    return found


def read_power_list(directory: Path = POWERS_DIR, items: set[str] | None = None) -> PowerList:
    """Parse and check powers.toml and areas/*.toml; raise listing every problem."""
    head = tomllib.loads((directory / "powers.toml").read_text(encoding="utf-8"))
    files = _area_files(directory)
    problems = check_head(head)
    bodies = {b.get("code"): b for b in head.get("bodies", [])}
    seen: set[str] = set()
    for area in head.get("areas", []):
        for power in files.get(area.get("code"), []):
            where = power.get("code", "?")
            problems += [
                f"{where}: {e}" for e in check_power(power, area["code"], set(bodies), items)
            ]
            if where in seen:
                problems.append(f"{where}: code used twice")
            seen.add(where)
    unknown = set(files) - {a.get("code") for a in head.get("areas", [])}
    problems += [f"areas/{code}.toml: not an area of powers.toml" for code in sorted(unknown)]
    if problems:
        raise PowerListError("power list is not valid:\n" + "\n".join(problems))
    return PowerList(
        version=str(head["version"]),
        areas=tuple(
            Area(
                a["code"],
                Bilingual.from_dict(a["name"]),
                tuple(Power.from_dict(p, a["code"]) for p in files.get(a["code"], [])),
            )
            for a in head["areas"]
        ),
        bodies={code: Bilingual.from_dict(b["name"]) for code, b in bodies.items()},
        supervision=Bilingual.from_dict(head["supervision"]),
        supervision_phone=str(head["supervision_phone"]),
    )


@cache
def power_list() -> PowerList:
    """The shipped list, checked against the shipped catalog's item codes (read once)."""
    _, items = read_parts()
    return read_power_list(items={str(item["code"]) for item in items})
