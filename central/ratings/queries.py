"""SQL over the ingested ratings and follow-ups: the city's figures per township, unit and
month; the follow-ups of county steps an officer's department answers for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from edge.kernel.auth.account import Account
from edge.ratings.queries import RatingFigures

CITY_FIGURES_SQL = """
    SELECT r.node_id, n.township_zh, n.township_en, r.office_code, r.office_level,
        coalesce(d.name_zh, r.office_code) AS office_zh,
        coalesce(d.name_en, r.office_code) AS office_en,
        substr(r.closed_on, 1, 7) AS month,
        count(*) AS closed_applications,
        count(CASE WHEN r.level IS NOT NULL AND r.channel != 'agent_device' THEN 1 END)
            AS received,
        count(CASE WHEN r.level <= 3 AND r.channel != 'agent_device' THEN 1 END) AS good,
        count(CASE WHEN r.level >= 4 AND r.channel != 'agent_device'
            AND r.malicious_reason IS NULL THEN 1 END) AS bad,
        count(f.id) AS follow_ups,
        count(CASE WHEN f.closed_in_time = 1 THEN 1 END) AS follow_ups_closed_in_time,
        count(CASE WHEN r.level IS NULL THEN 1 END) AS unrated,
        count(CASE WHEN r.channel = 'agent_device' THEN 1 END) AS agent_device
    FROM edge_ratings r
    JOIN nodes n ON n.node_id = r.node_id
    LEFT JOIN edge_follow_ups f ON f.node_id = r.node_id AND f.rating_id = r.id
        AND f.status != 'dismissed'
    LEFT JOIN departments d ON d.code = r.office_code
    WHERE r.round = 1 AND r.closed_on >= :since AND r.closed_on < :until
    GROUP BY r.node_id, r.office_code, r.office_level, month
    ORDER BY month DESC, n.township_code, r.office_level, r.office_code
"""


@dataclass(frozen=True)
class TownshipFigures(RatingFigures):
    """One township's unit for one month."""

    node_id: str = ""
    township_zh: str = ""
    township_en: str = ""


async def _all(db: aiosqlite.Connection, sql: str, params: Any) -> list[Any]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def city_figures(
    db: aiosqlite.Connection, *, since: str, until: str
) -> list[TownshipFigures]:
    """Every township's round-1 ratings of applications closed in [since, until); one query."""
    rows = await _all(db, CITY_FIGURES_SQL, {"since": since, "until": until})
    return [TownshipFigures(**dict(row)) for row in rows]


FOLLOW_UP_SQL = """
    SELECT f.*, r.level, r.comment, r.channel, r.rated_at, r.malicious_reason, r.phone,
        a.tracking_code, a.applicant_name, i.name_zh AS item_name_zh, i.name_en AS item_name_en,
        n.township_zh, n.township_en
    FROM edge_follow_ups f
    JOIN edge_ratings r ON r.node_id = f.node_id AND r.id = f.rating_id
    JOIN edge_applications a ON a.node_id = f.node_id AND a.id = f.application_id
    JOIN catalog_items i ON i.code = a.item_code
    JOIN nodes n ON n.node_id = f.node_id
    JOIN jurisdictions v ON v.code = f.village_code
    JOIN jurisdictions tw ON tw.code = v.parent_code
    WHERE f.handled_at = 'central' AND f.office_level = 'county'
        AND f.office_code = :department AND tw.parent_code = :county
"""


def _officer(account: Account) -> dict[str, Any]:
    return {"county": account.jurisdiction_code, "department": account.department_code}


async def follow_ups(db: aiosqlite.Connection, officer: Account) -> list[Any]:
    """The county follow-ups of the officer's department in their county, open first."""
    return await _all(
        db,
        FOLLOW_UP_SQL + " ORDER BY f.status != 'open', f.due_on, f.opened_at DESC LIMIT 500",
        _officer(officer),
    )


async def follow_up(
    db: aiosqlite.Connection, officer: Account, node_id: str, follow_up_id: str
) -> Any:
    """One of them, None if it is not the officer's."""
    rows = await _all(
        db,
        FOLLOW_UP_SQL + " AND f.node_id = :node AND f.id = :id",
        _officer(officer) | {"node": node_id, "id": follow_up_id},
    )
    return rows[0] if rows else None


async def sent_actions(db: aiosqlite.Connection, node_id: str, follow_up_id: str) -> list[Any]:
    """The actions sent down the feed for a follow-up, with what the township did with each."""
    return await _all(
        db,
        """
        SELECT c.id, c.created_at, json_extract(c.payload, '$.action') AS action,
            json_extract(c.payload, '$.choice') AS choice,
            json_extract(c.payload, '$.note') AS note, ac.result, ac.detail
        FROM commands c
        LEFT JOIN edge_applied_commands ac ON ac.node_id = c.node_id AND ac.id = c.id
        WHERE c.node_id = ? AND c.kind = 'follow_up_action'
            AND json_extract(c.payload, '$.follow_up_id') = ?
        ORDER BY c.seq
        """,
        (node_id, follow_up_id),
    )
