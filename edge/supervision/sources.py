"""The rows behind the figures, from the edge's own tables or central's `edge_*` copies.

Five queries whatever the number of units (applications, steps, returns, 催办, ratings with
their follow-ups) plus one for the calendar; `Tables` names the tables, so central runs the
same SQL over its copies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from edge.supervision.cards import CardRule, WorkdayIndex
from edge.supervision.statistics import (
    ApplicationFact,
    Clock,
    Pause,
    Period,
    RatingFact,
    StepFact,
)
from edge.workdays.queries import exceptions_between

MARGIN = timedelta(days=1)  # stamps are UTC, days are local: filter a day wide, decide in Python


@dataclass(frozen=True)
class Tables:
    """Where the rows live: the edge's tables (node '') or central's copies (node_id)."""

    applications: str
    steps: str
    supplements: str
    reminders: str
    node: str  # the SQL expression of a row's node
    ratings: str
    follow_ups: str

    def same_node(self, alias: str) -> str:
        """The join condition that keeps a row with its own node's application."""
        return "" if self.node == "''" else f"AND {alias}.node_id = a.node_id"


EDGE_TABLES = Tables(
    "applications", "steps", "supplement_requests", "reminders", "''", "ratings", "follow_ups"
)
CENTRAL_TABLES = Tables(
    "edge_applications",
    "edge_steps",
    "edge_supplement_requests",
    "edge_reminders",
    "node_id",
    "edge_ratings",
    "edge_follow_ups",
)


@dataclass(frozen=True)
class Scope:
    """Whose work: villages under a code prefix, optionally one department's steps only."""

    prefix: str
    department: str | None = None


def _where(tables: Tables, scope: Scope) -> str:
    department = (
        f" AND EXISTS (SELECT 1 FROM {tables.steps} d WHERE d.application_id = a.id "
        f"{tables.same_node('d')} AND d.department_code = :department)"
        if scope.department
        else ""
    )
    return (
        "a.village_code LIKE :prefix AND a.status != 'withdrawn' AND ("
        "a.status IN ('in_review', 'returned') OR (a.submitted_on <= :until "
        "AND (a.finished_at IS NULL OR a.finished_at >= :since)))" + department
    )


def local_day(value: str | None, zone: ZoneInfo) -> date | None:
    """The local date of a stored UTC stamp (or of a stored date)."""
    if not value:
        return None
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value).astimezone(zone).date()


async def _rows(db: aiosqlite.Connection, sql: str, params: dict[str, str]) -> list[aiosqlite.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def load(
    db: aiosqlite.Connection,
    tables: Tables,
    scope: Scope,
    period: Period,
    timezone: str,
) -> list[ApplicationFact]:
    """Every application in scope that is open now or touches the period, with its parts
    ("open", "yellow" and "red" are counted now, whatever the period)."""
    zone = ZoneInfo(timezone)
    where = _where(tables, scope)
    params = {
        "prefix": scope.prefix + "%",
        "until": period.until.isoformat(),
        "since": (period.since - MARGIN).isoformat(),
        "department": scope.department or "",
    }
    apps = await _rows(
        db,
        f"SELECT {tables.node} AS node, a.id, a.village_code, a.status, a.submitted_on, "
        f"a.finished_at, a.promised_due_on FROM {tables.applications} a WHERE {where}",
        params,
    )
    department = " AND s.department_code = :department" if scope.department else ""
    steps = await _rows(
        db,
        f"SELECT s.id, s.application_id, {tables.node.replace('node_id', 'a.node_id')} AS node, "
        "s.department_code, s.level, s.status, s.days, s.started_on, s.due_on, s.decided_at, "
        f"s.decided_by FROM {tables.applications} a JOIN {tables.steps} s "
        f"ON s.application_id = a.id {tables.same_node('s')} WHERE {where}{department}",
        params,
    )
    pauses = await _rows(
        db,
        f"SELECT r.application_id, {tables.node.replace('node_id', 'a.node_id')} AS node, "
        f"r.step_id, r.requested_at, r.resolved_at FROM {tables.applications} a "
        f"JOIN {tables.supplements} r ON r.application_id = a.id {tables.same_node('r')} "
        f"WHERE {where}",
        params,
    )
    urges = await _rows(
        db,
        f"SELECT u.application_id, {tables.node.replace('node_id', 'a.node_id')} AS node, "
        f"u.step_id, u.sent_at FROM {tables.applications} a "
        f"JOIN {tables.reminders} u ON u.application_id = a.id {tables.same_node('u')} "
        f"WHERE {where} AND u.kind = 'urge'",
        params,
    )
    ratings = await _rows(
        db,
        f"SELECT r.application_id, {tables.node.replace('node_id', 'a.node_id')} AS node, "
        "r.office_code, r.office_level, r.closed_on, r.level, r.channel, "
        "r.malicious_reason IS NOT NULL AS malicious, f.id IS NOT NULL AS follow_up, "
        f"coalesce(f.closed_in_time, 0) AS fixed FROM {tables.applications} a "
        f"JOIN {tables.ratings} r ON r.application_id = a.id {tables.same_node('r')} "
        f"LEFT JOIN {tables.follow_ups} f ON f.rating_id = r.id {tables.same_node('f')} "
        f"AND f.status != 'dismissed' WHERE {where} AND r.round = 1",
        params,
    )
    facts = _assemble(apps, steps, pauses, urges, zone)
    return _with_ratings(facts, ratings)


def deciding_step(steps: tuple[StepFact, ...], office: str, level: str) -> str | None:
    """The step a rating answers for: the last decided step of the rated unit."""
    decided = [s for s in steps if s.department == office and s.level == level and s.decided_on]
    return max(decided, key=lambda s: s.decided_on or date.min).id if decided else None


def _with_ratings(facts: list[ApplicationFact], rows: list[aiosqlite.Row]) -> list[ApplicationFact]:
    ratings_of: dict[tuple[str, str], list[aiosqlite.Row]] = defaultdict(list)
    for r in rows:
        ratings_of[r["node"], r["application_id"]].append(r)
    return [
        replace(
            app,
            ratings=tuple(
                RatingFact(
                    step_id=deciding_step(app.steps, r["office_code"], r["office_level"]),
                    closed_on=date.fromisoformat(r["closed_on"][:10]),
                    level=r["level"],
                    channel=r["channel"],
                    malicious=bool(r["malicious"]),
                    follow_up=bool(r["follow_up"]),
                    fixed=bool(r["fixed"]),
                )
                for r in ratings_of[app.node, app.id]
            ),
        )
        if (app.node, app.id) in ratings_of
        else app
        for app in facts
    ]


def _assemble(
    apps: list[aiosqlite.Row],
    steps: list[aiosqlite.Row],
    pauses: list[aiosqlite.Row],
    urges: list[aiosqlite.Row],
    zone: ZoneInfo,
) -> list[ApplicationFact]:
    steps_of: dict[tuple[str, str], list[StepFact]] = defaultdict(list)
    for r in steps:
        steps_of[r["node"], r["application_id"]].append(
            StepFact(
                id=r["id"],
                node=r["node"],
                application_id=r["application_id"],
                department=r["department_code"],
                level=r["level"],
                status=r["status"],
                days=r["days"],
                started_on=local_day(r["started_on"], zone),
                due_on=local_day(r["due_on"], zone),
                decided_on=local_day(r["decided_at"], zone),
                decided_by=r["decided_by"],
            )
        )
    pauses_of: dict[tuple[str, str], list[Pause]] = defaultdict(list)
    for r in pauses:
        requested = local_day(r["requested_at"], zone)
        assert requested is not None
        pauses_of[r["node"], r["application_id"]].append(
            Pause(r["step_id"], requested, local_day(r["resolved_at"], zone))
        )
    urges_of: dict[tuple[str, str], list[tuple[str, date]]] = defaultdict(list)
    for r in urges:
        sent = local_day(r["sent_at"], zone)
        assert sent is not None
        urges_of[r["node"], r["application_id"]].append((r["step_id"], sent))
    facts = []
    for r in apps:
        key = (r["node"], r["id"])
        submitted = local_day(r["submitted_on"], zone)
        promised = local_day(r["promised_due_on"], zone)
        assert submitted is not None and promised is not None
        facts.append(
            ApplicationFact(
                id=r["id"],
                node=r["node"],
                village=r["village_code"],
                status=r["status"],
                submitted_on=submitted,
                finished_on=local_day(r["finished_at"], zone),
                promised_due_on=promised,
                steps=tuple(steps_of.get(key, ())),
                pauses=tuple(pauses_of.get(key, ())),
                urged_on=tuple(urges_of.get(key, ())),
            )
        )
    return facts


async def clock_for(db: aiosqlite.Connection, today: date, since: date, rule: CardRule) -> Clock:
    """Today's clock with the calendar from a year before the period to a year after today."""
    start = min(since, today) - timedelta(days=400)
    end = today + timedelta(days=400)
    exceptions = await exceptions_between(db, start, end)
    return Clock(today, WorkdayIndex(start, end, exceptions), rule)
