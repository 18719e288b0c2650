"""One power and one area of the list as typed records, built from the checked data files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edge.catalog.item import Bilingual


def _texts(entries: list[Mapping[str, Any]]) -> tuple[Bilingual, ...]:
    return tuple(Bilingual.from_dict(entry) for entry in entries)


@dataclass(frozen=True)
class FlowStep:
    """One box of the flow chart: who acts, what they do, in how long, and what comes out."""

    actor: str
    action: Bilingual
    limit: Bilingual
    output: Bilingual

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowStep:
        """From one entry of a power's `steps`."""
        return cls(
            data["actor"],
            Bilingual.from_dict(data["action"]),
            Bilingual.from_dict(data["limit"]),
            Bilingual.from_dict(data["output"]),
        )


@dataclass(frozen=True)
class Power:
    """A village power: its basis, who decides, conditions, steps, limits and disclosure."""

    code: str
    area: str
    name: Bilingual
    legal_basis: tuple[Bilingual, ...]
    deciders: tuple[str, ...]
    conditions: tuple[Bilingual, ...]
    materials: tuple[Bilingual, ...]
    time_limit: Bilingual
    disclosure: Bilingual
    items: tuple[str, ...]
    steps: tuple[FlowStep, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], area: str) -> Power:
        """From one `[[powers]]` entry of an area file."""
        return cls(
            code=data["code"],
            area=area,
            name=Bilingual.from_dict(data["name"]),
            legal_basis=_texts(data["legal_basis"]),
            deciders=tuple(data["deciders"]),
            conditions=_texts(data["conditions"]),
            materials=_texts(data["materials"]),
            time_limit=Bilingual.from_dict(data["time_limit"]),
            disclosure=Bilingual.from_dict(data["disclosure"]),
            items=tuple(data.get("items", [])),
            steps=tuple(FlowStep.from_dict(step) for step in data["steps"]),
        )

    def matches(self, words: str) -> bool:
        """Whether every word of a search appears in the power's name, code or basis."""
        haystack = " ".join(
            [self.code, self.name.zh, self.name.en]
            + [text for basis in self.legal_basis for text in (basis.zh, basis.en)]
        ).lower()
        return all(word in haystack for word in words.lower().split())


@dataclass(frozen=True)
class Area:
    """An area of the list (GB/T 41374-2022 category) and its powers, in code order."""

    code: str
    name: Bilingual
    powers: tuple[Power, ...]
