"""Reference data central owns (jurisdiction tree, catalog), loaded from files at start-up."""

from __future__ import annotations

from edge.catalog.loader import LoadResult, load_catalog, read_catalog
from edge.db import Database
from edge.jurisdictions.loader import load_tree


async def load_reference_data(db: Database) -> LoadResult:
    """Load the tree and the catalog in one transaction; unchanged data writes nothing."""
    catalog = read_catalog()
    async with db.write() as conn:
        await load_tree(conn)
        return await load_catalog(conn, catalog)
