"""Record a rating or its change (within 24 hours), and open or drop the follow-up it calls for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from edge.kernel.clock import stamp
from edge.kernel.i18n import gettext as _
from edge.ratings import follow_ups, queries
from edge.ratings.levels import INDICATORS, is_bad
from edge.workdays.working_days import WorkingDays

CHANGE_WINDOW = timedelta(hours=24)


class RatingClosed(Exception):
    """The rating was given more than 24 hours ago: it can no longer change."""

    def __init__(self) -> None:
        super().__init__(_("评价提交已超过24小时，不能再修改。"))


@dataclass(frozen=True)
class Given:
    """What the applicant gave: a level, optional indicator levels, an optional comment."""

    level: int
    indicators: dict[str, int | None] = field(default_factory=dict)
    comment: str = ""


def state(row: Any, now: datetime) -> str:
    """open (not rated yet), changeable (rated within 24 hours) or closed."""
    if row["level"] is None:
        return "open"
    if now - datetime.fromisoformat(row["rated_at"]) < CHANGE_WINDOW:
        return "changeable"
    return "closed"


def _same(row: Any, given: Given) -> bool:
    return (
        row["level"] == given.level
        and row["comment"] == given.comment
        and all(row[name] == given.indicators.get(name) for name in INDICATORS)
    )


async def record(
    db: aiosqlite.Connection,
    row: Any,
    given: Given,
    channel: str,
    now: datetime,
    days: WorkingDays,
) -> None:
    """Write the rating (or its change) in the caller's transaction; a 差评 opens a
    follow-up, a change away from 差评 drops one nobody has worked on yet."""
    if not given.comment and row["comment"]:  # an empty comment on a change keeps the old one
        given = Given(given.level, given.indicators, row["comment"])
    if _same(row, given):
        return  # a retried post, or nothing changed
    if state(row, now) == "closed":
        raise RatingClosed()
    values = {name: given.indicators.get(name) for name in INDICATORS}
    at = stamp(now)
    await db.execute(
        f"""
        UPDATE ratings SET level = :level, comment = :comment, channel = :channel,
            {", ".join(f"{name} = :{name}" for name in INDICATORS)},
            rated_at = coalesce(rated_at, :at),
            changed_at = CASE WHEN rated_at IS NULL THEN NULL ELSE :at END
        WHERE id = :id
        """,
        {
            "level": given.level,
            "comment": given.comment,
            "channel": channel,
            "at": at,
            "id": row["id"],
            **values,
        },
    )
    existing = await queries.follow_up_of_rating(db, row["id"])
    if is_bad(given.level):
        if existing is None:
            await follow_ups.open_for(db, row, days, at)
        elif existing["status"] == "dismissed" and existing["verified_at"] is None:
            await follow_ups.reopen(db, existing["id"])
    elif existing is not None and existing["status"] == "open":
        await follow_ups.drop_untouched(db, existing)
