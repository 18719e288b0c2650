"""The edge database's schema: its migrations folder and application id."""

from __future__ import annotations

from pathlib import Path

from edge.kernel.db import Database
from edge.kernel.migrate import migrate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
APPLICATION_ID = 0x43554E45  # "CUNE": a Cunban edge database


async def migrate_database(db: Database) -> int:
    """Bring the edge database to the latest schema; return its version."""
    return await migrate(db.writer, MIGRATIONS_DIR, APPLICATION_ID, db.path)
