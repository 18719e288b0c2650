"""A village affairs disclosure (村务/党务/财务公开) as its notice-board sheet (公开栏), in
Chinese (the sealed language): a finance table as lines with its totals; sealed when a
reviewer publishes it."""

from __future__ import annotations

from typing import Any

import aiosqlite

from edge.affairs import queries
from edge.affairs.money import yuan
from edge.affairs.records import Line, total
from edge.affairs.schedule import kinds
from edge.disclosure.sheet import Sheet, sealed
from edge.settings import Settings

OFFICE = "township"  # the key the township's decisions and sheets carry
DIRECTIONS = {"income": "收入", "spending": "支出"}


def affair_lines(row: Any, lines: list[Line]) -> tuple[str, ...]:
    """The text, then each finance line and the totals."""
    out = [row["body"]] if row["body"] else []
    out += [
        f"{DIRECTIONS[line.direction]}：{line.label} {yuan(line.amount_fen)}元" for line in lines
    ]
    if lines:
        income, spending = total(lines, "income"), total(lines, "spending")
        out += [
            f"收入合计：{yuan(income)}元；支出合计：{yuan(spending)}元",
            f"收支相抵：{'' if income >= spending else '-'}{yuan(abs(income - spending))}元",
        ]
    return tuple(out) or ("（无正文）",)


def affair_sheet(row: Any, lines: list[Line], public_base: str) -> Sheet:
    """The sheet of a published disclosure for its village's board."""
    kind = kinds().get(row["kind"])
    return Sheet(
        title=f"{kind.name_zh if kind else ''}：{row['title']}",
        village=row["village_zh"],
        period=row["period"],
        lines=affair_lines(row, lines),
        online=f"{public_base}/disclosure/affairs/{row['id']}",
    )


async def seal_affair(
    db: aiosqlite.Connection, settings: Settings, affair_id: str, now: str
) -> None:
    """Seal the sheet of a disclosure just published, in the reviewer's write transaction."""
    row = await queries.get(db, affair_id)
    if row is None or row["status"] != "published":
        return
    sheet = affair_sheet(row, await queries.lines(db, affair_id), settings.web.public_base)
    await sealed(db, settings.keys_dir, OFFICE, sheet, now)
