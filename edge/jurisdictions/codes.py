"""Pure functions on 12-digit codes: level, prefix, containment."""

from __future__ import annotations

# digits that identify a jurisdiction at each level: 2 province, 2 city, 2 county, 3 township,
# 3 village (grids reuse the village code space under a village for now).
PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}


def is_code(value: str) -> bool:
    """Whether `value` looks like a 12-digit administrative code."""
    return len(value) == 12 and value.isdigit()


def level_of(code: str) -> str:
    """The level a code names, read from its trailing zeros."""
    if code[9:] != "000":
        return "village"
    if code[6:9] != "000":
        return "township"
    if code[4:6] != "00":
        return "county"
    if code[2:4] != "00":
        return "city"
    return "province"


def prefix_of(code: str) -> str:
    """The significant digits of a code: everything inside it starts with them."""
    return code[: PREFIX_LENGTH[level_of(code)]]


def contains(outer: str, inner: str) -> bool:
    """Whether jurisdiction `inner` lies inside (or is) jurisdiction `outer`."""
    return inner.startswith(prefix_of(outer))


def township_of(code: str) -> str:
    """The township a village (or the township itself) belongs to."""
    return code[:9] + "000"
