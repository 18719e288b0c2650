"""Amounts in yuan as people type them ('1,234.5', '80元') <-> integer fen, and back for display."""

from __future__ import annotations

import re

AMOUNT = re.compile(r"^(\d{1,10})(?:\.(\d{1,2}))?$")


def to_fen(text: str) -> int | None:
    """Integer fen of a yuan amount with at most two decimals; None if it is not one."""
    cleaned = text.strip().replace(",", "").replace("，", "").replace(" ", "").removesuffix("元")
    match = AMOUNT.match(cleaned)
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def yuan(fen: int) -> str:
    """'1,234.50' from 123450."""
    return f"{fen // 100:,}.{fen % 100:02d}"
