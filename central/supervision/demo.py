"""Central's supervision demo: a supervisor per demo county, and the demo officers made the
heads of their departments (each is the only one of their department in the county)."""

from __future__ import annotations

import aiosqlite

from edge.accounts import queries as accounts
from edge.accounts.demo_people import DEMO_PASSWORD, DemoAccount
from edge.kernel.auth.account import by_phone
from edge.kernel.auth.passwords import hash_password

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
