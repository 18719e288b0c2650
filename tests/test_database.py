"""The database object: closed and opened again, it lends only live readers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from edge.kernel.db import READERS, Database


async def _reopen_and_read(path: Path) -> list[int]:
    db = Database(path)
    await db.open()
    await db.close()
    await db.open()
    answers = []
    try:
        for _ in range(READERS + 1):  # every reader lent once, and one lent again
            async with db.read() as conn, conn.execute("SELECT 1") as cursor:
                row = await cursor.fetchone()
                answers.append(row[0] if row else 0)
    finally:
        await db.close()
    return answers


def test_a_reopened_database_reads(tmp_path: Path):
    assert asyncio.run(_reopen_and_read(tmp_path / "edge.db")) == [1] * (READERS + 1)
