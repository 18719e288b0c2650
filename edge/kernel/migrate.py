"""Numbered .sql migrations applied on PRAGMA user_version, each in its own transaction."""

from __future__ import annotations

import asyncio
import fcntl
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from edge.kernel.db import DatabaseRefused

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered script."""

    number: int
    path: Path


def discover(directory: Path) -> list[Migration]:
    """The migrations in `directory`, numbered 1..n without gaps."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if match is None:
            raise ValueError(f"badly named migration: {path.name}")
        found.append(Migration(int(match.group(1)), path))
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


async def _pragma(conn: aiosqlite.Connection, name: str) -> int:
    async with conn.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _has_tables(conn: aiosqlite.Connection) -> bool:
    async with conn.execute("SELECT count(*) FROM sqlite_schema") as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0])


async def check_ours(conn: aiosqlite.Connection, application_id: int, path: Path) -> int:
    """Refuse a file that is not our database or is newer than this code; return its version."""
    try:
        found_id = await _pragma(conn, "application_id")
        version = await _pragma(conn, "user_version")
        has_tables = await _has_tables(conn)
    except sqlite3.DatabaseError as exc:
        raise DatabaseRefused(f"{path} is not a SQLite database ({exc})") from None
    if found_id != application_id and (found_id != 0 or has_tables):
        raise DatabaseRefused(
            f"{path} belongs to another program (application_id {found_id}, "
            f"expected {application_id}); refusing to open it"
        )
    return version


async def migrate(
    conn: aiosqlite.Connection, directory: Path, application_id: int, path: Path
) -> int:
    """Apply every migration newer than the database's user_version; return the new version.

    A lock file beside the database keeps two processes of one node (web, worker, replicate)
    from reading the same old version and applying a script twice.
    """
    with open(f"{path}.migrate-lock", "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
        return await _migrate_locked(conn, directory, application_id, path)


async def _migrate_locked(
    conn: aiosqlite.Connection, directory: Path, application_id: int, path: Path
) -> int:
    migrations = discover(directory)
    version = await check_ours(conn, application_id, path)
    if version > len(migrations):
        raise DatabaseRefused(
            f"{path} has schema version {version}, newer than this program knows "
            f"({len(migrations)}); upgrade the program instead"
        )
    for migration in migrations[version:]:
        await _apply(conn, migration, application_id)
        version = migration.number
    return version


async def _apply(conn: aiosqlite.Connection, migration: Migration, application_id: int) -> None:
    script = migration.path.read_text(encoding="utf-8")
    try:
        await conn.executescript(
            "BEGIN IMMEDIATE;\n"
            f"{script}\n;"
            f"PRAGMA application_id = {application_id};\n"
            f"PRAGMA user_version = {migration.number};\n"
            "COMMIT;"
        )
    except sqlite3.Error as exc:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise RuntimeError(
            f"migration {migration.path.name} failed and was rolled back: {exc}"
        ) from exc
