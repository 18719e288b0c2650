"""The routing table (routing.toml): kinds with their deadline tier, categories with the office
or county department that handles them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from edge.kernel.i18n import pick

ROUTING_FILE = Path(__file__).with_name("routing.toml")
TOWNSHIP = "township"


@dataclass(frozen=True)
class Kind:
    """问题反映/投诉/咨询/求助/建议 and its deadline in working days."""

    code: str
    name_zh: str
    name_en: str
    days: int

    @property
    def name(self) -> str:
        """The name in the current language."""
        return pick(self.name_zh, self.name_en)


@dataclass(frozen=True)
class Category:
    """What the item is about, and the department (or `township`) that handles it."""

    code: str
    name_zh: str
    name_en: str
    department: str

    @property
    def name(self) -> str:
        """The name in the current language."""
        return pick(self.name_zh, self.name_en)

    @property
    def level(self) -> str:
        """`township` when the township office handles it, else `county` (done at central)."""
        return TOWNSHIP if self.department == TOWNSHIP else "county"


@dataclass(frozen=True)
class Routing:
    """The whole table, in file order."""

    kinds: tuple[Kind, ...]
    categories: tuple[Category, ...]

    def kind(self, code: str) -> Kind | None:
        """The kind of `code`, None if unknown."""
        return next((k for k in self.kinds if k.code == code), None)

    def category(self, code: str) -> Category | None:
        """The category of `code`, None if unknown."""
        return next((c for c in self.categories if c.code == code), None)


@cache
def routing() -> Routing:
    """The routing table, read once."""
    data = tomllib.loads(ROUTING_FILE.read_text(encoding="utf-8"))
    kinds = tuple(
        Kind(k["code"], k["name"]["zh"], k["name"]["en"], int(k["days"])) for k in data["kinds"]
    )
    categories = tuple(
        Category(c["code"], c["name"]["zh"], c["name"]["en"], c["department"])
        for c in data["categories"]
    )
    return Routing(kinds, categories)
