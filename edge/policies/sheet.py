"""A benefit policy as the notice-board sheet (公开栏) of each village of the township, in
Chinese (the sealed language), sealed when the policy is published here."""

from __future__ import annotations

from typing import Any

import aiosqlite

from edge.disclosure.sheet import Sheet, sealed
from edge.jurisdictions import queries as places
from edge.policies import queries
from edge.settings import Settings

OFFICE = "township"  # the key the township's decisions and sheets carry


def policy_lines(row: Any) -> tuple[str, ...]:
    """What the policy's page says, one fact a line."""
    until = row["valid_to"] or "长期有效"
    lines = [
        f"发布机关：{row['issuer']}",
        f"享受对象：{row['eligibility']}",
        f"补贴标准：{row['amount']}",
        f"如何申请：{row['how_to_apply']}",
        f"有效期：{row['valid_from']} 至 {until}",
    ]
    if row["item_code"]:
        lines.append(f"办事事项编号：{row['item_code']}（可到村代办点办理）")
    return tuple(lines)


def policy_sheet(row: Any, place: str, public_base: str) -> Sheet:
    """The sheet of the policy for the board of `place` (a village, or the township)."""
    return Sheet(
        title=f"惠民政策：{row['title']}",
        village=place,
        period=f"{row['valid_from']} 起",
        lines=policy_lines(row),
        online=f"{public_base}/disclosure/policies/{row['id']}",
    )


async def seal_policy(
    db: aiosqlite.Connection, settings: Settings, policy_id: str, now: str
) -> None:
    """Seal the policy's sheet for the township's board and each village's, in the caller's
    write transaction (publication), so printing it later writes nothing."""
    row = await queries.get(db, policy_id)
    if row is None:
        return
    township = await places.get(db, settings.township_code)
    names = [v["name_zh"] for v in await places.villages_of(db, settings.township_code)]
    for place in [township["name_zh"] if township else "", *names]:
        sheet = policy_sheet(row, place, settings.web.public_base)
        await sealed(db, settings.keys_dir, OFFICE, sheet, now)
