"""Ratings and follow-ups in SQL: look-ups, the staff list, and the published figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from edge.jurisdictions.codes import prefix_of
from edge.kernel.auth.account import Account

RATING_SQL = """
    SELECT r.*, a.tracking_code, a.item_code, a.applicant_name, a.finished_at,
        c.name_zh AS item_name_zh, c.name_en AS item_name_en,
        coalesce(d.name_zh, r.office_code) AS office_zh,
        coalesce(d.name_en, r.office_code) AS office_en
    FROM ratings r
    JOIN applications a ON a.id = r.application_id
    JOIN catalog_items c ON c.code = a.item_code
    LEFT JOIN departments d ON d.code = r.office_code
"""

FOLLOW_UP_SQL = """
    SELECT f.*, r.level, r.comment, r.round, r.channel, r.rated_at, r.malicious_reason,
        r.malicious_at, r.phone, a.tracking_code, a.applicant_name,
        c.name_zh AS item_name_zh, c.name_en AS item_name_en,
        coalesce(d.name_zh, f.office_code) AS office_zh,
        coalesce(d.name_en, f.office_code) AS office_en
    FROM follow_ups f
    JOIN ratings r ON r.id = f.rating_id
    JOIN applications a ON a.id = f.application_id
    JOIN catalog_items c ON c.code = a.item_code
    LEFT JOIN departments d ON d.code = f.office_code
"""


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    async with db.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(db: aiosqlite.Connection, sql: str, params: Any) -> list[Any]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def by_token_hash(db: aiosqlite.Connection, digest: str) -> Any:
    """The invitation (and rating) of a token, with its application's item."""
    return await _one(db, RATING_SQL + " WHERE r.token_hash = ?", (digest,))


async def rating(db: aiosqlite.Connection, rating_id: str) -> Any:
    """One rating row by id."""
    return await _one(db, RATING_SQL + " WHERE r.id = ?", (rating_id,))


async def latest_for_application(db: aiosqlite.Connection, application_id: str) -> Any:
    """The newest invitation of an application (round 2 once the fix is to be rated)."""
    return await _one(
        db,
        RATING_SQL + " WHERE r.application_id = ? ORDER BY r.round DESC LIMIT 1",
        (application_id,),
    )


async def latest_for_phone(db: aiosqlite.Connection, phone: str) -> Any:
    """The newest invitation sent to a phone (what a digit reply by SMS rates)."""
    return await _one(
        db,
        RATING_SQL + " WHERE r.phone = ? ORDER BY r.invited_at DESC, r.id DESC LIMIT 1",
        (phone,),
    )


async def follow_up(db: aiosqlite.Connection, follow_up_id: str) -> Any:
    """One follow-up with its rating and application."""
    return await _one(db, FOLLOW_UP_SQL + " WHERE f.id = ?", (follow_up_id,))


async def follow_up_of_rating(db: aiosqlite.Connection, rating_id: str) -> Any:
    """The follow-up a rating opened, if any."""
    return await _one(db, "SELECT * FROM follow_ups WHERE rating_id = ?", (rating_id,))


async def follow_ups(db: aiosqlite.Connection, account: Account) -> list[Any]:
    """Follow-ups inside the account's jurisdiction (an officer: their department's), open
    ones first by due date, then the last 200 closed."""
    where = "substr(f.village_code, 1, ?) = ?"
    prefix = prefix_of(account.jurisdiction_code)
    params: list[Any] = [len(prefix), prefix]
    if account.role == "officer":
        where += " AND f.office_code = ?"
        params.append(account.department_code or "")
    return await _all(
        db,
        FOLLOW_UP_SQL + f" WHERE {where} ORDER BY f.status != 'open', "
        "CASE WHEN f.status = 'open' THEN f.due_on END, f.opened_at DESC LIMIT 500",
        params,
    )


@dataclass(frozen=True)
class RatingFigures:
    """One unit's ratings for one month (of the applications' closing)."""

    office_code: str
    office_level: str
    office_zh: str
    office_en: str
    month: str
    closed_applications: int
    received: int  # rated by the applicant's own phone (agent devices apart)
    good: int  # 非常满意, 满意, 基本满意
    bad: int  # 不满意, 非常不满意, not marked malicious
    follow_ups: int
    follow_ups_closed_in_time: int
    unrated: int
    agent_device: int

    def rate(self, part: int, whole: int) -> float | None:
        """part / whole, None when there is nothing to divide."""
        return part / whole if whole else None

    @property
    def good_rate(self) -> float | None:
        """好评率."""
        return self.rate(self.good, self.received)

    @property
    def bad_rate(self) -> float | None:
        """差评率."""
        return self.rate(self.bad, self.received)

    @property
    def fixed_rate(self) -> float | None:
        """差评整改率: follow-ups closed in time over follow-ups."""
        return self.rate(self.follow_ups_closed_in_time, self.follow_ups)

    @property
    def unrated_rate(self) -> float | None:
        """Non-response rate: closed applications with no rating."""
        return self.rate(self.unrated, self.closed_applications)


FIGURES_SQL = """
    SELECT r.office_code, r.office_level,
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
    FROM ratings r
    LEFT JOIN follow_ups f ON f.rating_id = r.id AND f.status != 'dismissed'
    LEFT JOIN departments d ON d.code = r.office_code
    WHERE r.round = 1 AND r.closed_on >= :since AND r.closed_on < :until
        AND (:prefix IS NULL OR substr(r.village_code, 1, length(:prefix)) = :prefix)
    GROUP BY r.office_code, r.office_level, month
    ORDER BY month DESC, r.office_level, r.office_code
"""


async def figures(
    db: aiosqlite.Connection, *, since: str, until: str, village_prefix: str | None = None
) -> list[RatingFigures]:
    """Round-1 ratings of applications closed on days in [since, until) (ISO dates), per
    unit (office or department) and month; one query."""
    rows = await _all(
        db, FIGURES_SQL, {"since": since, "until": until, "prefix": village_prefix or None}
    )
    return [RatingFigures(**dict(row)) for row in rows]


@dataclass(frozen=True)
class OfficeRatings:
    """One office's ratings over a period: the months of `figures` added up."""

    office_zh: str
    office_en: str
    closed_applications: int
    received: int
    good: int
    bad: int
    follow_ups: int
    follow_ups_closed_in_time: int
    unrated: int

    def share(self, part: int, whole: int) -> str:
        """`part` of `whole` as a whole percentage, or — when there is nothing to divide."""
        return f"{round(100 * part / whole)}%" if whole else "—"


COUNTED = (
    "closed_applications",
    "received",
    "good",
    "bad",
    "follow_ups",
    "follow_ups_closed_in_time",
    "unrated",
)


def per_office(rows: list[RatingFigures]) -> list[OfficeRatings]:
    """`figures` rows summed per office, in the order the offices first appear."""
    totals: dict[str, dict[str, int]] = {}
    names: dict[str, tuple[str, str]] = {}
    for row in rows:
        counts = totals.setdefault(row.office_code, dict.fromkeys(COUNTED, 0))
        names[row.office_code] = (row.office_zh, row.office_en)
        for name in COUNTED:
            counts[name] += getattr(row, name)
    return [
        OfficeRatings(names[code][0], names[code][1], **counts) for code, counts in totals.items()
    ]
