"""The statutory publication schedule (schedule.toml) and its cards: a disclosure due and not
published turns yellow within the warning window, red once overdue, on the working-day clock."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import aiosqlite

from edge.affairs import periods
from edge.jurisdictions.codes import is_code, prefix_of
from edge.kernel.i18n import pick
from edge.workdays import arithmetic
from edge.workdays.queries import exceptions_between

SCHEDULE_FILE = Path(__file__).with_name("schedule.toml")
DEFAULT_WARNING_DAYS = 3
LOOK_BACK = timedelta(days=200)  # the oldest period looked at ends within it
LOOK_AHEAD = timedelta(days=60)  # grace periods end within it


@dataclass(frozen=True)
class Kind:
    """One kind of disclosure and its rhythm."""

    code: str
    name_zh: str
    name_en: str
    every: str  # month, quarter or at_once
    grace_working_days: int
    lookback_periods: int

    @property
    def scheduled(self) -> bool:
        """Whether a period's disclosure is due on a date (major matters are at once)."""
        return self.every in ("month", "quarter")


@dataclass(frozen=True)
class ScheduleCard:
    """A disclosure due and missing: which village, kind and period, by when, how late."""

    village_code: str
    village_zh: str
    village_en: str
    kind: Kind
    period: str
    due_on: date
    card: str  # yellow or red


@cache
def kinds() -> dict[str, Kind]:
    """The kinds of disclosure, as schedule.toml declares them."""
    data = tomllib.loads(SCHEDULE_FILE.read_text(encoding="utf-8"))
    return {code: Kind(code, **fields) for code, fields in data["kinds"].items()}


@cache
@dataclass(frozen=True)
class Source:
    """The legal source in both languages; a template prints it in the page's language."""

    zh: str
    en: str

    def __str__(self) -> str:
        return pick(self.zh, self.en)


def legal_source() -> Source:
    """The legal source the schedule follows."""
    data = tomllib.loads(SCHEDULE_FILE.read_text(encoding="utf-8"))
    return Source(str(data["source"]), str(data.get("source_en", "")))


def due_on(kind: Kind, period: str, exceptions: dict[date, bool]) -> date:
    """The last day a period's disclosure may be published."""
    end = periods.period_end(period)
    if end is None:
        raise ValueError(f"not a period: {period!r}")
    return arithmetic.add_working_days(end, kind.grace_working_days, exceptions)


async def schedule_cards(
    db: aiosqlite.Connection,
    today: date,
    village_prefix: str,
    warning_days: int = DEFAULT_WARNING_DAYS,
) -> list[ScheduleCard]:
    """Yellow and red cards of every village under `village_prefix` (a code or its prefix):
    three queries whatever the number of villages. Red first, then by due date."""
    prefix = prefix_of(village_prefix) if is_code(village_prefix) else village_prefix
    async with db.execute(
        "SELECT code, name_zh, name_en FROM jurisdictions "
        "WHERE level = 'village' AND code LIKE ? || '%' ORDER BY position",
        (prefix,),
    ) as cursor:
        villages = list(await cursor.fetchall())
    due = [
        (kind, period)
        for kind in kinds().values()
        if kind.scheduled
        for period in periods.ended_before(kind.every, today, kind.lookback_periods)
    ]
    if not villages or not due:
        return []
    async with db.execute(
        "SELECT village_code, kind, period FROM affairs WHERE status = 'published' "
        "AND village_code LIKE ? || '%'",
        (prefix,),
    ) as cursor:
        published = {(r["village_code"], r["kind"], r["period"]) for r in await cursor.fetchall()}
    exceptions = await exceptions_between(db, today - LOOK_BACK, today + LOOK_AHEAD)
    cards = []
    for village in villages:
        for kind, period in due:
            if (village["code"], kind.code, period) in published:
                continue
            deadline = due_on(kind, period, exceptions)
            card = arithmetic.card(deadline, today, warning_days, exceptions)
            if card != "green":
                cards.append(
                    ScheduleCard(
                        village["code"],
                        village["name_zh"],
                        village["name_en"],
                        kind,
                        period,
                        deadline,
                        card,
                    )
                )
    return sorted(cards, key=lambda c: (arithmetic.CARD_ORDER[c.card], c.due_on, c.village_code))
