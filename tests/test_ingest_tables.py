"""The replicated-table registry agrees with both schemas: adding a table is one declaration
plus its two migrations, and forgetting either migration fails here, not in production."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from central.schema import migrate_database as migrate_central
from edge.kernel.db import Database
from edge.schema import migrate_database as migrate_edge
from replication.tables import TABLES, ReplicatedTable


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An edge and a central database at the latest schema."""
    root = tmp_path_factory.mktemp("schemas")

    async def build() -> None:
        for path, migrate in (
            (root / "edge.db", migrate_edge),
            (root / "central.db", migrate_central),
        ):
            db = Database(path)
            await db.open()
            try:
                await migrate(db)
            finally:
                await db.close()

    asyncio.run(build())
    return root / "edge.db", root / "central.db"


def _columns(path: Path, table: str) -> dict[str, int]:
    """Column name -> its position in the primary key (0 when not in it)."""
    with sqlite3.connect(path) as conn:
        return {row[1]: row[5] for row in conn.execute(f"PRAGMA table_info({table})")}


def _rev_triggers(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ?", (table,)
        )
        return {name for (name,) in found if name.startswith(f"{table}_rev_")}


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_each_declared_table_carries_rev_on_the_edge(schemas, table: ReplicatedTable):
    edge, _ = schemas
    columns = _columns(edge, table.name)
    assert "rev" in columns and table.key in columns
    triggers = _rev_triggers(edge, table.name)
    assert f"{table.name}_rev_insert" in triggers
    if not table.insert_only:  # an updated row must be copied again
        assert f"{table.name}_rev_update" in triggers


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_each_declared_table_has_its_copy_at_central_keyed_by_node_and_key(
    schemas, table: ReplicatedTable
):
    _, central = schemas
    columns = _columns(central, table.central_table)
    assert columns["node_id"] == 1 and columns[table.key] == 2
    assert "rev" in columns
    assert set(columns) - {"node_id", "ingested_ms"} <= set(_columns(schemas[0], table.name))


def test_every_central_copy_is_declared_once_and_heartbeat_is_copied_last(schemas):
    _, central = schemas
    with sqlite3.connect(central) as conn:
        copies = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'edge\\_%' "
                "ESCAPE '\\'"
            )
        }
    names = [table.name for table in TABLES]
    assert len(set(names)) == len(names)
    assert copies == {table.central_table for table in TABLES}
    assert names[-1] == "heartbeat"
    assert [t.name for t in TABLES if t.insert_only] == ["node_identity", "audit_log"]
