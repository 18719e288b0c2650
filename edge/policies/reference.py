"""The benefit policies we wrote (edge/policies/reference/*.toml: the demo city's and
townships'), in Chinese and English: the demos publish the Chinese, and a page in English
shows the English of a published policy whose Chinese is exactly one of these."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from edge.jurisdictions.loader import read_tree
from edge.kernel.i18n import current_locale

DIRECTORY = Path(__file__).parent / "reference"
TEXTS = ("title", "issuer", "eligibility", "amount", "how_to_apply")


@cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    data = tomllib.loads((DIRECTORY / f"{name}.toml").read_text(encoding="utf-8"))
    return tuple(data["policies"])


def city_policies() -> tuple[dict[str, Any], ...]:
    """The city-wide ones, as central's demo publishes them (the Chinese, dates, item)."""
    return tuple(
        {
            **p["zh"],
            "item_code": p.get("item_code"),
            "valid_from": p["valid_from"],
            "valid_to": p.get("valid_to"),
        }
        for p in _load("city")
    )


def township_policies(town: str) -> tuple[tuple[dict[str, Any], tuple[int, int]], ...]:
    """The township ones for `town` (its Chinese name): (values, validity in days from today)."""
    return tuple(
        (
            {**{k: v.format(town=town) for k, v in p["zh"].items()}, "item_code": None},
            (int(p["days"][0]), int(p["days"][1])),
        )
        for p in _load("township")
    )


@cache
def _towns() -> dict[str, str]:
    """Township names, Chinese -> English."""
    return {t["name_zh"]: t["name_en"] for t in read_tree() if t["level"] == "township"}


def _pattern(zh: str) -> re.Pattern[str]:
    return re.compile(re.escape(zh).replace(re.escape("{town}"), "(?P<town>.+?)") + "$")


@cache
def _english(texts: tuple[str, ...]) -> dict[str, str] | None:
    """The English of exactly these Chinese texts (TEXTS order), if we wrote them."""
    for policy in (*_load("city"), *_load("township")):
        towns = set()
        for field, text in zip(TEXTS, texts, strict=True):
            found = _pattern(policy["zh"][field]).match(text)
            if found is None:
                break
            towns |= {found.group("town")} if "town" in found.groupdict() else set()
        else:
            if len(towns) > 1 or not all(t in _towns() for t in towns):
                continue
            town = _towns()[next(iter(towns))] if towns else ""
            return {k: v.format(town=town) for k, v in policy["en"].items()}
    return None


def shown(row: Any) -> dict[str, str]:
    """The policy's texts in the page's language: English where we wrote the policy, else
    (and always in Chinese) as published."""
    texts = tuple(str(row[field] or "") for field in TEXTS)
    english = _english(texts) if current_locale() == "en" else None
    return english or dict(zip(TEXTS, texts, strict=True))
