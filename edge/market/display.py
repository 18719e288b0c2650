"""How a listing reads on a page, at the edge and at central: price, quantity, place names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite

from edge.kernel.i18n import format_number, pick
from edge.kernel.i18n import gettext as _
from edge.market.categories import category_label, unit_label


def price_text(fen: int | None, unit: str) -> str:
    """¥12.50/斤, or 面议 when the seller left the price open."""
    if fen is None:
        return _("面议")
    return f"¥{fen // 100}.{fen % 100:02d}/{unit_label(unit)}"


def quantity_text(quantity: float, unit: str) -> str:
    """500 斤, 1.5 吨."""
    return f"{format_number(quantity)} {unit_label(unit)}"


async def place_names(db: aiosqlite.Connection, codes: Iterable[str]) -> dict[str, str]:
    """Village (and township) names in the request's language, in one query."""
    wanted = sorted({c for code in codes for c in (code, code[:9] + "000")})
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    async with db.execute(
        f"SELECT code, name_zh, name_en FROM jurisdictions WHERE code IN ({marks})", wanted
    ) as cursor:
        return {
            row["code"]: pick(row["name_zh"], row["name_en"]) for row in await cursor.fetchall()
        }


def helpers() -> dict[str, Any]:
    """What market templates call to show a listing."""
    return {
        "price_text": price_text,
        "quantity_text": quantity_text,
        "category_label": category_label,
        "unit_label": unit_label,
    }
