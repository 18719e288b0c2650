"""The market's categories and units, read once from categories.toml, in both languages."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from edge.kernel.i18n import pick

DATA = Path(__file__).with_name("categories.toml")


@dataclass(frozen=True)
class Choice:
    """A category or a unit: its code and its names."""

    code: str
    zh: str
    en: str

    @property
    def label(self) -> str:
        """The name in the request's language."""
        return pick(self.zh, self.en)


@cache
def _load() -> dict[str, tuple[Choice, ...]]:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    return {
        kind: tuple(Choice(e["code"], e["zh"], e["en"]) for e in data[kind])
        for kind in ("category", "unit")
    }


def categories() -> tuple[Choice, ...]:
    """Every category, in the file's order."""
    return _load()["category"]


def units() -> tuple[Choice, ...]:
    """Every unit, in the file's order."""
    return _load()["unit"]


def category_label(code: str) -> str:
    """The category's name in the request's language (the code if unknown)."""
    return next((c.label for c in categories() if c.code == code), code)


def unit_label(code: str) -> str:
    """The unit's name in the request's language (the code if unknown)."""
    return next((u.label for u in units() if u.code == code), code)
