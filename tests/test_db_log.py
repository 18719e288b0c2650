"""The database driver's own log: aiosqlite logs every statement with its parameters (phones, ID
numbers) at DEBUG; a node run at DEBUG must not write them (issue 12)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

from edge.kernel.db import Database

PHONE = "13812345678"
ID_NUMBER = "450521199001011234"
ROOT = Path(__file__).resolve().parent.parent


async def _query(path: Path) -> None:
    db = Database(path)
    await db.open()
    try:
        async with db.read() as conn, conn.execute("SELECT ?, ?", (PHONE, ID_NUMBER)) as cursor:
            assert await cursor.fetchone() is not None
    finally:
        await db.close()


def test_statements_and_parameters_stay_out_of_a_debug_log(tmp_path: Path):
    """In a fresh process (no other test's connections logging meanwhile) run at DEBUG."""
    script = (
        "import asyncio, logging, sys\n"
        "from pathlib import Path\n"
        "from tests.test_db_log import _query\n"
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,"
        " format='%(name)s %(levelname)s %(message)s')\n"
        f"asyncio.run(_query(Path({str(tmp_path / 'edge.db')!r})))\n"
        "print(logging.getLogger('aiosqlite').getEffectiveLevel())\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert PHONE not in run.stderr and ID_NUMBER not in run.stderr
    assert not [line for line in run.stderr.splitlines() if line.startswith("aiosqlite DEBUG")]
    assert run.stdout.strip() == str(logging.INFO)


def test_the_drivers_warnings_still_reach_the_log(tmp_path: Path, caplog):
    logging.getLogger("aiosqlite").setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    asyncio.run(_query(tmp_path / "edge.db"))
    logging.getLogger("aiosqlite").warning("iterdump completed unexpectedly")
    assert "iterdump completed unexpectedly" in caplog.text
