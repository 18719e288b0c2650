"""Central's supervision demo: a supervisor per demo county, the demo officers made the heads of
their departments (each is the only one of their department in the county), and once the
townships' steps are ingested, one 催办 at central (escalations come from the scan itself)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import aiosqlite

from central.supervision.queries import accounts_of, open_county_steps
from central.supervision.urging import urge
from edge.accounts import queries as accounts
from edge.accounts.demo_people import DEMO_PASSWORD, DemoAccount
from edge.jurisdictions.codes import contains
from edge.kernel.auth.account import by_phone
from edge.kernel.auth.passwords import hash_password
from edge.workdays.local import local_today

SUPERVISOR_NAMES = ("刘振东", "杨丽琼")


def county_supervisors(block: str, counties: list[tuple[int, str]]) -> list[DemoAccount]:
    """One supervisor per (digit, county): phone block + digit + 200."""
    return [
        DemoAccount(f"{block}{digit}200", SUPERVISOR_NAMES[n % 2], "supervisor", county)
        for n, (digit, county) in enumerate(counties)
    ]


async def load_supervision_demo(
    conn: aiosqlite.Connection, block: str, counties: list[tuple[int, str]], now: str
) -> list[DemoAccount]:
    """Create the county supervisors that do not exist yet; officers head their department."""
    people = county_supervisors(block, counties)
    for person in people:
        if await by_phone(conn, person.phone) is None:
            await accounts.create(
                conn,
                phone=person.phone,
                name=person.name,
                role=person.role,
                jurisdiction_code=person.jurisdiction_code,
                department_code=None,
                password_hash=hash_password(DEMO_PASSWORD),
                now=now,
            )
    await conn.execute("UPDATE accounts SET is_head = 1 WHERE role = 'officer' AND is_head = 0")
    return people


DEMO_NOTE = "快到期了，请按期办结，办不了请说明原因。"


async def urge_demo_step(
    conn: aiosqlite.Connection, keys_dir: Path, now: datetime, timezone: str
) -> str | None:
    """The demo's 催办 at central, once: the first county supervisor urges the open county step
    of their county next to fall due (one not overdue yet: the overdue ones escalate on their
    own); None when sent before or no such step is ingested yet."""
    async with conn.execute("SELECT 1 FROM step_reminders WHERE kind = 'urge' LIMIT 1") as found:
        if await found.fetchone() is not None:
            return None
    supervisors = sorted(await accounts_of(conn, ("supervisor",)), key=lambda p: p.phone)
    if not supervisors:
        return None
    by = supervisors[0]
    today = local_today(now, timezone).isoformat()
    steps = [
        s
        for s in await open_county_steps(conn)
        if contains(by.jurisdiction_code, s["village_code"]) and s["due_on"] >= today
    ]
    if not steps:
        return None
    step = min(steps, key=lambda s: (s["due_on"], s["node_id"], s["id"]))
    return await urge(conn, keys_dir, step, by, DEMO_NOTE, now)
