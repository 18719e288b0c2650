"""Demo supervision history for a township: six months of applications (some late, returned,
urged) so every figure on the dashboards has something, and a township leader for escalations."""

from __future__ import annotations

from datetime import date

import aiosqlite

from edge.accounts import queries as accounts
from edge.accounts.demo_people import DEMO_PASSWORD, TOWNSHIP_BLOCK
from edge.kernel.auth.account import by_phone
from edge.kernel.auth.passwords import hash_password
from edge.supervision.simulation import HISTORY_PHONES, edge_rows, generate

HISTORY_SIZE = 300
LEADER_NAME = "蒙振华"


async def load_supervision_demo(conn: aiosqlite.Connection, township: str, today: date) -> int:
    """A township leader (head) and the months of history; idempotent. Applications added."""
    phone = TOWNSHIP_BLOCK.get(township, "1380779") + "0004"
    if await by_phone(conn, phone) is None:
        await accounts.create(
            conn,
            phone=phone,
            name=LEADER_NAME,
            role="township_staff",
            jurisdiction_code=township,
            department_code=None,
            password_hash=hash_password(DEMO_PASSWORD),
            now=f"{today.isoformat()}T00:00:00+00:00",
        )
    await conn.execute("UPDATE accounts SET is_head = 1 WHERE phone = ?", (phone,))
    # loaded before: the history's applicants have phones of their own block (simulation.py)
    async with conn.execute(
        "SELECT 1 FROM applications WHERE applicant_phone LIKE ? LIMIT 1", (HISTORY_PHONES,)
    ) as cursor:
        if await cursor.fetchone() is not None:
            return 0
    history = generate(HISTORY_SIZE, today, seed=int(township[6:9]), townships={"": township})
    async with conn.execute("SELECT * FROM accounts WHERE active = 1") as cursor:
        people = list(await cursor.fetchall())

    for sql, rows in edge_rows(history, people):
        if rows:
            await conn.executemany(sql, rows)
    return HISTORY_SIZE
