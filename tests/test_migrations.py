"""The migration runner: idempotent, transactional, and refusing files that are not ours."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edge.kernel.db import Database, DatabaseRefused
from edge.kernel.migrate import migrate
from edge.schema import APPLICATION_ID, MIGRATIONS_DIR, migrate_database

ROOT = Path(__file__).resolve().parent.parent
AGENT_ID = "01JAGENTAGENTAGENTAGENTAGE"


def _run(path: Path, directory: Path = MIGRATIONS_DIR) -> int:
    async def go() -> int:
        db = Database(path)
        await db.open()
        try:
            return await migrate(db.writer, directory, APPLICATION_ID, path)
        finally:
            await db.close()

    return asyncio.run(go())


def database_at(tmp_path: Path, version: int) -> Path:
    """A database migrated by the first `version` scripts only, holding a village and its
    agent (AGENT_ID), for testing what a later migration does to rows written before it."""
    older = tmp_path / "older"
    older.mkdir()
    for script in sorted(MIGRATIONS_DIR.glob("*.sql"))[:version]:
        shutil.copy(script, older)
    path = tmp_path / "edge.db"
    assert _run(path, older) == version
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO jurisdictions (code, level, name_zh, name_en) "
            "VALUES ('450521100201', 'village', '乾江村', 'Qianjiang')"
        )
        conn.execute(
            "INSERT INTO accounts (id, phone, name, role, jurisdiction_code, password_hash, "
            "created_at, updated_at) VALUES (?, '13807710011', '代办员', 'agent', '450521100201', "
            "'-', '2026-11-23', '2026-11-23')",
            (AGENT_ID,),
        )
    return path


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}


def test_migrating_twice_changes_nothing(tmp_path):
    path = tmp_path / "edge.db"
    first = _run(path)
    tables = _tables(path)
    assert _run(path) == first
    assert _tables(path) == tables
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == first
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failing_migration_is_rolled_back(tmp_path):
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_good.sql").write_text("CREATE TABLE kept (id INTEGER);")
    (migrations / "0002_bad.sql").write_text(
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    )
    path = tmp_path / "edge.db"
    with pytest.raises(RuntimeError, match=r"0002_bad\.sql failed and was rolled back"):
        _run(path, migrations)
    assert "kept" in _tables(path)
    assert "half_done" not in _tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1


def test_a_database_of_another_program_is_refused(tmp_path):
    path = tmp_path / "edge.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(DatabaseRefused, match="belongs to another program"):
        _run(path)
    assert _tables(path) == {"invoices"}


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "edge.db"
    path.write_bytes(b"this is a spreadsheet, not a database" * 200)
    with pytest.raises(DatabaseRefused):
        _run(path)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "edge.db"
    version = _run(path)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {version + 1}")
    with pytest.raises(DatabaseRefused, match="newer than this program knows"):
        _run(path)


def test_serve_refuses_to_start_on_a_foreign_database_with_a_clear_message(tmp_path):
    data = tmp_path / "node"
    data.mkdir()
    with sqlite3.connect(data / "edge.db") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    env = os.environ | {
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": "450521100000",
        "CUNBAN_DATA_DIR": str(data),
    }
    result = subprocess.run(
        [sys.executable, "-m", "edge", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "belongs to another program" in result.stderr


def _serve(data: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": "450521100000",
        "CUNBAN_DATA_DIR": str(data),
    }
    return subprocess.run(
        [sys.executable, "-m", "edge", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_says_why_it_cannot_start_where_the_data_folder_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = _serve(blocker / "node")  # the data folder would sit under a regular file
    assert result.returncode == 2
    assert "cannot start: cannot create the folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_says_why_it_cannot_start_where_the_database_cannot_be_opened(tmp_path):
    data = tmp_path / "node"
    (data / "edge.db").mkdir(parents=True)  # the database's name is taken by a folder
    result = _serve(data)
    assert result.returncode == 2
    assert f"cannot start: cannot open {data / 'edge.db'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_rev_is_bumped_on_insert_and_update(tmp_path):
    path = tmp_path / "edge.db"
    asyncio.run(_migrate_only(path))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO jurisdictions (code, level, name_zh, name_en) "
            "VALUES ('450000000000', 'province', '广西', 'Guangxi')"
        )
        first = conn.execute("SELECT rev FROM jurisdictions").fetchone()[0]
        conn.execute("UPDATE jurisdictions SET name_en = 'Guangxi Zhuang'")
        second = conn.execute("SELECT rev FROM jurisdictions").fetchone()[0]
    assert 0 < first < second


async def _migrate_only(path: Path) -> None:
    db = Database(path)
    await db.open()
    try:
        await migrate_database(db)
    finally:
        await db.close()
