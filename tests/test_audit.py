"""The audit log: appended in the caller's transaction, chained by hash, tampering reported."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from edge.audit import verify as audit_verify
from edge.audit.log import GENESIS, append
from edge.kernel.db import Database, connect_sync
from edge.schema import migrate_database


async def _log_five(path: Path) -> list[str]:
    db = Database(path)
    await db.open()
    try:
        await migrate_database(db)
        hashes = []
        for n in range(5):
            async with db.write() as conn:
                digest = await append(
                    conn,
                    path.parent / "keys",
                    actor_id=None if n == 0 else f"01JAGENT{n:018d}",
                    role="agent",
                    jurisdiction_code="450521100201",
                    action="application.submit",
                    object_type="application",
                    object_id=f"01JAPP{n:020d}",
                    result="ok",
                    at=f"2026-11-23T09:0{n}:00+00:00",
                )
            hashes.append(digest)
        return hashes
    finally:
        await db.close()


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    path = tmp_path / "edge.db"
    asyncio.run(_log_five(path))
    return path


def _behind_the_apps_back(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("DROP TRIGGER audit_log_no_delete")
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def _problems(path: Path) -> list[str]:
    conn = connect_sync(path)
    try:
        return audit_verify.verify_chain(conn)
    finally:
        conn.close()


def test_rows_are_chained_from_genesis(logged, capsys):
    conn = connect_sync(logged)
    rows = conn.execute("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq").fetchall()
    conn.close()
    assert [row["seq"] for row in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, 5))
    assert _problems(logged) == []
    assert audit_verify.main(logged) == 0
    assert capsys.readouterr().out.strip() == "audit log OK: 5 rows"


def test_an_edited_row_is_reported(logged, capsys):
    _behind_the_apps_back(logged, "UPDATE audit_log SET result = 'refused' WHERE seq = 3")
    problems = _problems(logged)
    assert len(problems) == 1
    assert "row 3" in problems[0] and "edited" in problems[0]
    assert audit_verify.main(logged) == 1
    assert "row 3" in capsys.readouterr().out


def test_a_deleted_row_is_reported(logged):
    _behind_the_apps_back(logged, "DELETE FROM audit_log WHERE seq = 3")
    problems = _problems(logged)
    assert len(problems) == 1
    assert "row 3 is missing" in problems[0]


def test_a_rewritten_link_is_reported(logged):
    _behind_the_apps_back(logged, f"UPDATE audit_log SET prev_hash = '{GENESIS}' WHERE seq = 4")
    problems = _problems(logged)
    assert any("row 4" in p and "does not follow row 3" in p for p in problems)


def test_triggers_refuse_update_and_delete(logged):
    conn = sqlite3.connect(logged, isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_log SET result = 'refused' WHERE seq = 3")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit_log WHERE seq = 3")
    finally:
        conn.close()
    assert _problems(logged) == []


def test_append_outside_a_transaction_is_refused(logged):
    async def scenario() -> None:
        db = Database(logged)
        await db.open()
        try:
            await append(
                db.writer,
                logged.parent / "keys",
                actor_id=None,
                role="agent",
                jurisdiction_code="450521100201",
                action="x",
                object_type="y",
                object_id="z",
                result="ok",
                at="2026-11-23T10:00:00+00:00",
            )
        finally:
            await db.close()

    with pytest.raises(RuntimeError, match="transaction"):
        asyncio.run(scenario())


def test_missing_database_is_not_created(tmp_path, capsys):
    missing = tmp_path / "nowhere.db"
    assert audit_verify.main(missing) == 1
    assert not missing.exists()
    assert "NOT checked" in capsys.readouterr().out
