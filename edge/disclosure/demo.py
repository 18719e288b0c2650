"""Demo results disclosure: six weeks of decided cases in every village of the township, made
through the real lifecycle (one overdue, some not approved), and one case withheld."""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from edge.applications import lifecycle
from edge.applications.decision import Decision
from edge.applications.lifecycle import Applicant
from edge.catalog import queries as catalog
from edge.disclosure import queries
from edge.intake.uploads import record_blobs
from edge.kernel.auth.account import Account
from edge.kernel.blobstore import BlobStore
from edge.kernel.clock import stamp
from edge.settings import Settings

# (item, days ago it was taken in, working gap between decisions, last decision)
STORIES = (
    ("CW-002", 40, 0, "approve"),
    ("MZ-001", 38, 1, "approve"),
    ("NY-002", 35, 1, "approve"),
    ("MZ-002", 33, 2, "reject"),
    ("CW-003", 30, 0, "approve"),
    ("NY-001", 29, 2, "approve"),
    ("RS-004", 26, 1, "approve"),
    ("NY-004", 22, 1, "approve"),
    ("MZ-003", 45, 15, "approve"),  # each step decided late: overdue
    ("CW-005", 16, 0, "approve"),
    ("ZR-001", 14, 1, "approve"),
    ("MZ-004", 10, 1, "reject"),
    ("CW-004", 6, 0, "approve"),
    ("MZ-006", 5, 1, "approve"),
)
NAMES = ("蒙志刚", "陆美玲", "梁国华", "卢秀珍", "苏建平", "黄丽娟", "覃永福", "莫桂英")
WITHHELD = "MZ-002"  # withheld: the household's situation would identify a third party
OPINIONS = {
    "approve": "材料齐全，符合条件",
    "reject": "经入户核查，家庭人均收入高于当地标准，不符合条件",
}


async def _accounts(conn: aiosqlite.Connection) -> list[Account]:
    async with conn.execute("SELECT * FROM accounts") as cursor:
        return [Account.from_row(row) for row in await cursor.fetchall()]


async def _active_steps(conn: aiosqlite.Connection, application_id: str) -> list[aiosqlite.Row]:
    async with conn.execute(
        "SELECT id, department_code FROM steps WHERE application_id = ? AND status = 'active'",
        (application_id,),
    ) as cursor:
        return list(await cursor.fetchall())


async def _decide_all(
    conn: aiosqlite.Connection,
    settings: Settings,
    people: list[Account],
    application_id: str,
    when: datetime,
    gap: int,
    last: str,
) -> None:
    """Decide every step in turn, `gap` days apart; the last one as `last`."""
    from edge.demo import _as_of  # edge.demo calls this module: imported when it runs

    while steps := await _active_steps(conn, application_id):
        when += timedelta(days=gap)
        for step in steps:
            actor = next(
                p
                for p in people
                if (p.role, p.department_code or "township")
                in (
                    ("township_staff", step["department_code"]),
                    ("officer", step["department_code"]),
                )
            )
            ctx = await _as_of(conn, settings, actor, when)
            final = len(steps) == 1 and step["department_code"] != "township"
            outcome = last if final else "approve"
            decision = Decision(step["id"], outcome, actor, ctx.now, OPINIONS[outcome], ())
            await lifecycle.decide(conn, ctx, decision)


async def load_demo_disclosure(
    conn: aiosqlite.Connection, settings: Settings, now: datetime
) -> int:
    """Decided cases in every village and one withheld; skipped once a case is withheld."""
    from edge.demo import _as_of, _demo_photo, sample_value  # edge.demo calls this module

    async with conn.execute("SELECT count(*) FROM disclosure_withholdings") as cursor:
        row = await cursor.fetchone()
    if row and row[0]:
        return 0
    people = await _accounts(conn)
    agents = [p for p in people if p.role == "agent"]
    staff = next(p for p in people if p.role == "township_staff")
    for index, (code, days_ago, gap, last) in enumerate(STORIES):
        item = await catalog.item(conn, code)
        assert item is not None
        agent = agents[index % len(agents)]
        started = now - timedelta(days=days_ago)
        ctx = await _as_of(conn, settings, agent, started)
        store = BlobStore(settings.blobs_dir)
        uploads = [_demo_photo(store, 90, m.key) for m in item.materials if m.required]
        for upload in uploads:
            await record_blobs(conn, store, upload, stamp(started))
        application_id = await lifecycle.submit(
            conn,
            ctx,
            item=item,
            village_code=agent.jurisdiction_code,
            applicant=Applicant(
                f"4505211970{index + 1:02d}0{index + 1:02d}1{index:02d}",
                NAMES[index % len(NAMES)],
                f"1397790{index:04d}",
            ),
            form_data={f.name: sample_value(f) for f in item.fields},
            uploads=uploads,
        )
        await _decide_all(conn, settings, people, application_id, started, max(gap, 1), last)
        if code == WITHHELD:
            await queries.withhold(
                conn,
                application_id,
                "third_party_privacy",
                "核查记录涉及申请人亲属的病情，暂不公开",
                staff.id,
                stamp(now),
            )
    return len(STORIES)
