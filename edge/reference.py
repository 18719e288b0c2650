"""Reference data central owns (jurisdiction tree, catalog), loaded from files at start-up."""

from __future__ import annotations

from edge.catalog.loader import (
    LoadResult,
    current_version,
    load_catalog,
    newer_loaded,
    read_catalog,
)
from edge.jurisdictions.loader import load_tree
from edge.kernel.db import Database
from edge.schema import migrate_database
from edge.workdays.queries import seed_from_package

CALENDAR_YEARS = range(2024, 2028)  # the years chinesecalendar knows are seeded; others skip


async def prepare_database(db: Database) -> tuple[int, LoadResult]:
    """Migrate the open edge database, then load reference data: (schema version, load)."""
    version = await migrate_database(db)
    return version, await load_reference_data(db)


async def load_reference_data(db: Database) -> LoadResult:
    """Load the tree, the catalog and the holiday calendar; unchanged data writes nothing."""
    catalog = read_catalog()
    async with db.write() as conn:
        await load_tree(conn)
        await seed_from_package(conn, CALENDAR_YEARS)
        if await newer_loaded(conn, catalog.version):  # central sent a newer one: keep it
            loaded = await current_version(conn)
            return LoadResult(loaded[0] if loaded else catalog.version, len(catalog.items), 0)
        return await load_catalog(conn, catalog)
