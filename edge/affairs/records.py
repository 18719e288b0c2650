"""A finance line and the totals of a table of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One income or spending line of a finance disclosure, in fen."""

    direction: str  # income or spending
    label: str
    amount_fen: int


def total(lines: Sequence[Line], direction: str) -> int:
    """The sum of the lines in one direction, in fen."""
    return sum(line.amount_fen for line in lines if line.direction == direction)
