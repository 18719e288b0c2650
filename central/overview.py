"""The city overview's figures per township, from the rows central copied from each edge: four
grouped queries whatever the number of townships (applications, 好差评, 我有话说, 我的集市)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import aiosqlite

from edge.ratings.levels import BAD

APPLICATIONS_SQL = """
SELECT node_id,
       sum(submitted_on >= :month) AS received,
       sum(status IN ('in_review', 'returned')) AS open,
       sum(status IN ('approved', 'rejected') AND substr(finished_at, 1, 10) >= :month)
           AS finished
FROM edge_applications GROUP BY node_id
"""
RATINGS_SQL = f"""
SELECT node_id, count(*) AS rated,
       sum(level NOT IN ({", ".join(str(level) for level in BAD)})) AS good
FROM edge_ratings
WHERE round = 1 AND level IS NOT NULL AND substr(rated_at, 1, 10) >= :month
GROUP BY node_id
"""
FEEDBACK_SQL = """
SELECT node_id, sum(state IN ('accepted', 'transferred', 'handling')) AS open
FROM edge_feedback GROUP BY node_id
"""
MARKET_SQL = """
SELECT node_id, count(*) AS listings FROM edge_market_listings
WHERE state = 'active' AND available_until >= :today GROUP BY node_id
"""


@dataclass(frozen=True)
class TownshipFigures:
    """What a city admin sees of one township at a glance."""

    received: int = 0  # applications this month
    open: int = 0
    finished: int = 0  # this month
    rated: int = 0  # first ratings given this month
    good: int = 0
    feedback_open: int = 0
    listings: int = 0

    @property
    def good_rate(self) -> str:
        """好评率 this month, or — before anyone rated."""
        return f"{round(100 * self.good / self.rated)}%" if self.rated else "—"


async def _by_node(db: aiosqlite.Connection, sql: str, params: dict[str, str]) -> dict[str, Any]:
    async with db.execute(sql, params) as cursor:
        return {row["node_id"]: row for row in await cursor.fetchall()}


async def township_figures(db: aiosqlite.Connection, today: date) -> dict[str, TownshipFigures]:
    """Each township's figures for the month of `today` (and open now)."""
    params = {"month": today.replace(day=1).isoformat(), "today": today.isoformat()}
    apps = await _by_node(db, APPLICATIONS_SQL, params)
    ratings = await _by_node(db, RATINGS_SQL, params)
    feedback = await _by_node(db, FEEDBACK_SQL, params)
    market = await _by_node(db, MARKET_SQL, params)
    return {
        node: TownshipFigures(
            received=_count(apps, node, "received"),
            open=_count(apps, node, "open"),
            finished=_count(apps, node, "finished"),
            rated=_count(ratings, node, "rated"),
            good=_count(ratings, node, "good"),
            feedback_open=_count(feedback, node, "open"),
            listings=_count(market, node, "listings"),
        )
        for node in {*apps, *ratings, *feedback, *market}
    }


def _count(rows: dict[str, Any], node: str, name: str) -> int:
    """A node's count, 0 when the node has no such rows (or SQL summed nothing)."""
    row = rows.get(node)
    return int(row[name] or 0) if row is not None else 0
