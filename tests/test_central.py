"""The central node: its own database, /healthz, and the city overview of townships."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from central.app import create_app
from central.schema import MIGRATIONS_DIR
from central.settings import CentralSettings

NODES = "lianzhou=450521100000=http://127.0.0.2:8101,fucheng=450503101000=http://127.0.0.3:8102"


def test_overview_lists_the_registered_townships(tmp_path):
    settings = CentralSettings(data_dir=tmp_path, nodes=NODES)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "廉州镇" in page.text and "福成镇" in page.text and "合浦县" in page.text
        assert 'href="http://127.0.0.2:8101"' in page.text
        english = client.get("/?lang=en")
        assert "Lianzhou Town" in english.text and "Yinhai District" in english.text
        health = client.get("/healthz").json()
        assert health == {
            "node_id": "central",
            "version": health["version"],
            "database_ok": True,
            "schema_version": len(list(MIGRATIONS_DIR.glob("*.sql"))),
            "nodes": 2,
            "free_bytes": health["free_bytes"],
            "min_free_bytes": 200 * 1024 * 1024,
            "writable": True,
            "write_error": None,
            "storage_ok": True,
            "ok": True,
        }
        assert health["free_bytes"] > 200 * 1024 * 1024
        assert client.get("/nowhere").status_code == 404
    assert (tmp_path / "central.db").exists()


def test_registering_again_is_idempotent(tmp_path):
    settings = CentralSettings(data_dir=tmp_path, nodes=NODES)
    for _run in range(2):
        with TestClient(create_app(settings), base_url="https://testserver") as client:
            assert client.get("/healthz").json()["nodes"] == 2


def test_the_overview_gives_each_township_this_months_figures_in_few_queries(central, edges):
    """全市概况 was a list of two nodes: each township now shows this month's received, open
    and finished applications, its 好评率, open 我有话说 items and market listings."""
    from tests.central_support import central_rows
    from tests.test_budgets import FIRST_ROUND_TRIP, _measure

    page = central.get("/").text
    row = page.split('<a href="http://127.0.0.2:8101">廉州镇</a></th>')[1].split("</tr>")[0]
    cells = re.findall(r"<td>([^<]*)</td>", row)
    month = "2026-11-01"  # the tests' clock stands on 23 November 2026
    received, open_now = central_rows(
        central,
        "SELECT sum(submitted_on >= ?), sum(status IN ('in_review', 'returned')) "
        "FROM edge_applications WHERE node_id = 'lianzhou'",
        month,
    )[0]
    listings = central_rows(
        central,
        "SELECT count(*) FROM edge_market_listings WHERE node_id = 'lianzhou' "
        "AND state = 'active' AND available_until >= '2026-11-23'",
    )[0][0]
    assert cells[0] == str(received) and cells[1] == str(open_now) and received > 0
    assert cells[5] == str(listings) and listings > 0
    assert cells[3].endswith("%") or cells[3] == "—"
    size, queries = _measure(central, "/")
    assert size <= FIRST_ROUND_TRIP and queries <= 6, (size, queries)
