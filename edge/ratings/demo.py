"""Demo ratings: every level on closed applications, a 差评 with an open (yellow) follow-up,
one closed in time, one unrated, over several months; loaded once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from edge.applications import lifecycle
from edge.applications.lifecycle import Applicant, Context
from edge.catalog import queries as catalog
from edge.kernel.auth.account import Account
from edge.kernel.clock import stamp
from edge.ratings import follow_ups, queries
from edge.ratings.recording import Given, record
from edge.settings import Settings
from edge.workdays.working_days import WorkingDays, load_working_days

# (village-direct item, days ago it closed, level or None, channel, comment)
CLOSED = (
    ("CW-002", 75, 1, "link", "代办员上门服务，很方便"),
    ("CW-003", 68, 2, "sms", ""),
    ("CW-004", 44, 3, "link", "等了一会儿"),
    ("CW-005", 40, 5, "link", "跑了两次才开好证明"),  # its follow-up closes in time
    ("CW-006", 33, 2, "agent_device", ""),
    ("CW-002", 20, 1, "tracking", ""),
    ("CW-003", 9, 4, "link", "窗口说法前后不一致"),  # its follow-up is open, yellow
    ("CW-004", 5, None, "", ""),  # not rated
)
APPLICANTS = (("覃美玲", "450521197004120026"), ("莫振华", "450521196312300015"))


async def _days(conn: aiosqlite.Connection, settings: Settings, now: datetime) -> WorkingDays:
    return await load_working_days(conn, now, settings.web.timezone, settings.warning_working_days)


async def _context(
    conn: aiosqlite.Connection, settings: Settings, actor: Account, now: datetime
) -> Context:
    return Context(
        actor,
        now,
        await _days(conn, settings, now),
        settings.keys_dir,
        public_base=settings.web.public_base,
        follow_up_working_days=settings.follow_up_working_days,
    )


async def _account(conn: aiosqlite.Connection, role: str) -> Account:
    async with conn.execute(
        "SELECT * FROM accounts WHERE role = ? ORDER BY phone LIMIT 1", (role,)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None, f"the demo has a {role}"
    return Account.from_row(row)


async def load_demo_ratings(conn: aiosqlite.Connection, settings: Settings, now: datetime) -> int:
    """Close the demo's village-direct applications and rate them; skipped once any rating
    exists. How many applications it closed."""
    async with conn.execute("SELECT count(*) FROM ratings WHERE level IS NOT NULL") as cursor:
        counted = await cursor.fetchone()
    if counted is not None and counted[0]:
        return 0
    agent = await _account(conn, "agent")
    staff = await _account(conn, "township_staff")
    for index, (code, days_ago, level, channel, comment) in enumerate(CLOSED):
        item = await catalog.item(conn, code)
        assert item is not None
        closed = now - timedelta(days=days_ago)
        name, id_number = APPLICANTS[index % len(APPLICANTS)]
        application_id = await lifecycle.submit(
            conn,
            await _context(conn, settings, agent, closed),
            item=item,
            village_code=agent.jurisdiction_code,
            applicant=Applicant(id_number, name, f"1390772{index:04d}"),
            form_data={},
            uploads=[],
        )
        if level is None:
            continue
        row = await queries.latest_for_application(conn, application_id)
        rated = closed + timedelta(hours=3)
        days = await _days(conn, settings, rated)
        await record(conn, row, Given(level, {"overall": level}, comment), channel, rated, days)
        if index == 3:
            await _close_follow_up(conn, settings, row, staff, rated)
        if index == 6:
            await _due_tomorrow(conn, await _days(conn, settings, now), row["id"])
    return len(CLOSED)


async def _due_tomorrow(conn: aiosqlite.Connection, days: WorkingDays, rating_id: str) -> None:
    """Make the open case one opened 4 working days ago: due within one, a yellow card."""
    opened = days.today
    while days.elapsed(opened) < 4:
        opened -= timedelta(days=1)
    await conn.execute(
        "UPDATE follow_ups SET opened_on = ?, due_on = ? WHERE rating_id = ?",
        (opened.isoformat(), days.due(opened, 5).isoformat(), rating_id),
    )


async def _close_follow_up(
    conn: aiosqlite.Connection, settings: Settings, rating: Any, staff: Account, rated: datetime
) -> None:
    """Verified the next day, put right, called back: closed in time; the fix rated 满意."""
    rating_id = rating["id"]
    case = await queries.follow_up_of_rating(conn, rating_id)
    when = rated + timedelta(days=1)
    await follow_ups.verify(conn, case, "核实：证明材料清单未一次告知", staff.id, stamp(when))
    case = await queries.follow_up_of_rating(conn, rating_id)
    await follow_ups.remedy(
        conn, case, "rectified", "已在村便民服务站张贴一次性告知单", staff.id, stamp(when)
    )
    case = await queries.follow_up_of_rating(conn, rating_id)
    later = when + timedelta(days=1)
    days = await _days(conn, settings, later)
    await follow_ups.call_back(
        conn, case, "satisfied", "电话回访，群众表示满意", staff.id, days, stamp(later)
    )
    rating = await queries.rating(conn, rating_id)
    base = settings.web.public_base
    await follow_ups.invite_to_rate_fix(
        conn, case, rating, base=base, item=rating["item_name_zh"], now=later
    )
    fix = await queries.latest_for_application(conn, rating["application_id"])
    await record(conn, fix, Given(2), "sms", later + timedelta(hours=2), days)
