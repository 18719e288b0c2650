"""The database driver's own log: aiosqlite logs every statement with its parameters (phones, ID
numbers) at DEBUG; a node run at DEBUG must not write them (issue 12)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from edge.kernel.db import Database

PHONE = "13812345678"
ID_NUMBER = "450521199001011234"


async def _query(path: Path) -> None:
    db = Database(path)
    await db.open()
    try:
        async with db.read() as conn, conn.execute("SELECT ?, ?", (PHONE, ID_NUMBER)) as cursor:
            assert await cursor.fetchone() is not None
    finally:
        await db.close()


def test_statements_and_parameters_stay_out_of_a_debug_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    logging.getLogger("aiosqlite").setLevel(logging.NOTSET)  # as a fresh process has it
    caplog.set_level(logging.DEBUG)  # the node's level: DEBUG
    asyncio.run(_query(tmp_path / "edge.db"))
    assert PHONE not in caplog.text and ID_NUMBER not in caplog.text
    assert not [r for r in caplog.records if r.name == "aiosqlite" and r.levelno < logging.INFO]
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.INFO


def test_the_drivers_warnings_still_reach_the_log(tmp_path: Path, caplog):
    logging.getLogger("aiosqlite").setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    asyncio.run(_query(tmp_path / "edge.db"))
    logging.getLogger("aiosqlite").warning("iterdump completed unexpectedly")
    assert "iterdump completed unexpectedly" in caplog.text
