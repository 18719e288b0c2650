"""Central and both demo townships for tests: edges built once with the real lifecycle, central
as a real app, and the follower's and the sync loop's work done in-process (ingest, take feed)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from central.app import create_app
from central.feed.queries import page as feed_page
from central.settings import CentralSettings
from edge.demo import load_demo_node
from edge.kernel.db import Database
from edge.kernel.settings import WebSettings
from edge.settings import Settings
from edge.sync.commands import apply
from replication.feed.pull import FeedEntry
from replication.ingest import ingest_node
from replication.store_config import StoreSettings
from tests.conftest import FUCHENG, LIANZHOU, MovableClock

NODES = "lianzhou=450521100000=http://127.0.0.2:8101,fucheng=450503101000=http://127.0.0.3:8102"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # MovableClock's start
TOWNSHIPS = {"lianzhou": LIANZHOU, "fucheng": FUCHENG}


def _edge_settings(root: Path, node: str) -> Settings:
    return Settings(
        node_id=node,
        township_code=TOWNSHIPS[node],
        data_dir=root / node,
        replica=StoreSettings(replica_dir=root / "replica"),
    )


@pytest.fixture(scope="module")
def demo_edges(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both demo townships, built once through the real lifecycle; tests work on copies."""
    root = tmp_path_factory.mktemp("edges")
    for node in TOWNSHIPS:
        asyncio.run(load_demo_node(_edge_settings(root, node), START))
    return root


@pytest.fixture
def edges(demo_edges: Path, tmp_path: Path) -> dict[str, Settings]:
    for node in TOWNSHIPS:
        shutil.copytree(demo_edges / node, tmp_path / node)
    return {node: _edge_settings(tmp_path, node) for node in TOWNSHIPS}


@pytest.fixture
def central(
    tmp_path: Path, edges: dict[str, Settings], clock: MovableClock
) -> Iterator[TestClient]:
    settings = CentralSettings(
        data_dir=tmp_path / "central",
        nodes=NODES,
        web=WebSettings(port=8000, demo=True),
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )
    with TestClient(create_app(settings, clock), base_url="https://testserver") as client:
        for edge in edges.values():
            ingest(client, edge)
        yield client


def ingest(client: TestClient, edge: Settings) -> None:
    """What the follower does: copy the node's changed rows into central.db."""
    client.portal.call(ingest_node, client.app.state.node.db, edge.node_id, edge.database_path, 0)


def take_feed(client: TestClient, edge: Settings) -> list[str]:
    """What the edge's sync loop does: take its commands from the feed, in one transaction."""
    commands = client.portal.call(_page, client.app.state.node.db, edge.node_id)

    async def run() -> list[str]:
        db = Database(edge.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                return [
                    await apply(conn, edge, FeedEntry.from_wire(command), START)
                    for command in commands
                ]
        finally:
            await db.close()

    return asyncio.run(run())


async def _page(db: Database, node_id: str) -> list[dict[str, Any]]:
    async with db.read() as conn:
        return await feed_page(conn, node_id, 0, 100)


def central_rows(client: TestClient, sql: str, *params: Any) -> list[sqlite3.Row]:
    with sqlite3.connect(client.app.state.node.settings.database_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def yb002(client: TestClient, node: str = "lianzhou") -> sqlite3.Row:
    """The demo application in joint county review, and its civil affairs step."""
    return central_rows(
        client,
        "SELECT a.id, a.node_id, s.id AS step_id FROM edge_applications a "
        "JOIN edge_steps s ON s.node_id = a.node_id AND s.application_id = a.id "
        "WHERE a.node_id = ? AND a.item_code = 'YB-002' AND s.department_code = 'civil'",
        node,
    )[0]
