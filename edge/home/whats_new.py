"""What is new for a village on the front page: a few of each (news, disclosures, policies,
running elections), four queries whatever the amount of content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import aiosqlite

from edge.affairs import queries as affairs
from edge.elections import queries as elections
from edge.news import queries as news
from edge.policies import queries as policies

SHOWN = 4


@dataclass(frozen=True)
class WhatsNew:
    """The newest few of each kind of content for one village."""

    news: list[aiosqlite.Row]
    affairs: list[aiosqlite.Row]
    policies: list[aiosqlite.Row]
    elections: list[aiosqlite.Row]


async def whats_new(db: aiosqlite.Connection, village_code: str, today: date) -> WhatsNew:
    """The village's newest content as of `today`."""
    return WhatsNew(
        news=await news.latest(db, village_code, SHOWN),
        affairs=await affairs.published(db, village_code, SHOWN),
        policies=await policies.current(db, today, SHOWN),
        elections=await elections.open_on(db, today, village_code),
    )
