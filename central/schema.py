"""Central's database schema: its own migrations and application id."""

from __future__ import annotations

from pathlib import Path

from edge.kernel.db import Database
from edge.kernel.migrate import migrate

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
APPLICATION_ID = 0x43554E43  # "CUNC": a Cunban central database


async def migrate_database(db: Database) -> int:
    """Bring central.db to the latest schema; return its version."""
    return await migrate(db.writer, MIGRATIONS_DIR, APPLICATION_ID, db.path)
