"""Demo supervision history for a township: six months of applications (some late, returned,
urged, one county step overdue long enough to escalate) so every figure on the dashboards has
something, and a township leader for escalations."""

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
OVERDUE_BY = "-14 days"  # one open county step moved back: red for about two working weeks


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
    await _overdue_county_step(conn)
    return HISTORY_SIZE


async def _overdue_county_step(conn: aiosqlite.Connection) -> None:
    """Move the open county step due first two weeks back, so the demo has a county step red long
    enough to escalate (at central for a connected node, here for a standalone one)."""
    await conn.execute(
        """
        UPDATE steps SET started_on = date(started_on, ?), due_on = date(due_on, ?)
        WHERE id = (
            SELECT s.id FROM steps s JOIN applications a ON a.id = s.application_id
            WHERE s.level = 'county' AND s.status = 'active' AND a.status = 'in_review'
              AND a.applicant_phone LIKE ?
            ORDER BY s.due_on, s.id LIMIT 1)
        """,
        (OVERDUE_BY, OVERDUE_BY, HISTORY_PHONES),
    )
