"""The central node: its own database, /healthz, and the city overview of townships."""

from __future__ import annotations

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
