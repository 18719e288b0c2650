"""/metrics on both nodes: Prometheus text behind a bearer token (none set: 404), requests by
route template, and the nodes' own gauges; no personal data."""

from __future__ import annotations

import dataclasses
import re
import sqlite3

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from central.app import create_app as central_app
from central.settings import CentralSettings
from edge.app import create_app as edge_app
from edge.kernel.settings import WebSettings
from replication.store_config import StoreSettings
from tests.central_support import NODES, ingest

TOKEN = "metrics-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(samples, name: str, **labels: str) -> float:
    return sum(v for n, got, v in samples if n == name and labels.items() <= got.items())


@pytest.fixture
def edge(edges, clock):
    settings = dataclasses.replace(
        edges["lianzhou"], web=dataclasses.replace(edges["lianzhou"].web, metrics_token=TOKEN)
    )
    with TestClient(edge_app(settings, clock), base_url="https://testserver") as client:
        yield client, settings


def test_metrics_is_404_without_a_token_and_401_without_the_right_one(client, edge):
    assert client.get("/metrics").status_code == 404  # no CUNBAN_METRICS_TOKEN: not there
    guarded, _settings = edge
    refused = guarded.get("/metrics")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert "cunban_" not in refused.text


def test_edge_metrics_count_requests_by_route_template_and_read_the_node(edge):
    client, settings = edge
    with sqlite3.connect(settings.database_path) as conn:
        code = conn.execute("SELECT tracking_code FROM applications LIMIT 1").fetchone()[0]
        active = dict(
            conn.execute("SELECT level, count(*) FROM steps WHERE status = 'active' GROUP BY level")
        )
        rated = conn.execute("SELECT count(*) FROM ratings WHERE level IS NOT NULL").fetchone()[0]
        phones = [row[0] for row in conn.execute("SELECT phone FROM ratings")]
    for _ in range(3):
        assert client.get(f"/track/{code}").status_code == 200
    assert client.get("/no-such-page-abc").status_code == 404
    answer = client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    assert answer.headers["cache-control"] == "no-store"
    text = answer.text
    samples = _samples(text)
    # by template, never the raw path (a tracking code is a key to a person's file)
    assert _value(samples, "cunban_http_requests_total", route="/track/{code}", status="200") == 3
    assert _value(samples, "cunban_http_requests_total", route="unmatched", status="404") == 1
    assert _value(samples, "cunban_http_request_duration_seconds_count", route="/track/{code}") == 3
    assert code not in text and "no-such-page" not in text
    assert not any(phone in text for phone in phones)
    # the node's own state, as its database holds it
    assert active and sum(active.values()) == sum(
        v for n, _l, v in samples if n == "cunban_steps_open"
    )
    for level, count in active.items():
        assert _value(samples, "cunban_steps_open", level=level) == count
    assert (
        sum(v for n, labels, v in samples if n == "cunban_ratings" and labels["level"] != "none")
        == rated
    )
    assert {"sms", "push", "blob_upload"} <= {
        labels["outbox"] for n, labels, _v in samples if n == "cunban_outbox_pending"
    }
    assert _value(samples, "cunban_replica_state", state="unknown") == 1
    assert re.search(r"^cunban_feed_cursor \d", text, re.MULTILINE)


def test_central_metrics_show_each_node_as_ingested(tmp_path, edges, clock):
    settings = CentralSettings(
        data_dir=tmp_path / "central",
        nodes=NODES,
        web=WebSettings(port=8000, demo=True, metrics_token=TOKEN),
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )
    with TestClient(central_app(settings, clock), base_url="https://testserver") as client:
        assert client.get("/metrics").status_code == 401
        for edge_settings in edges.values():
            ingest(client, edge_settings)
        with sqlite3.connect(settings.database_path) as conn:
            conn.execute(
                "INSERT INTO followers (node_id, state, restarts, rss_kb, updated_ms) "
                "VALUES ('lianzhou', 'following', 2, 35000, 0)"
            )
            open_steps = dict(
                conn.execute(
                    "SELECT node_id, count(*) FROM edge_steps WHERE status = 'active' "
                    "GROUP BY node_id"
                )
            )
            backlog = dict(
                conn.execute(
                    "SELECT node_id, count(*) FROM commands AS c WHERE NOT EXISTS (SELECT 1 FROM "
                    "edge_applied_commands AS a WHERE a.node_id = c.node_id AND a.id = c.id) "
                    "GROUP BY node_id"
                )
            )
        assert client.get("/").status_code == 200
        samples = _samples(client.get("/metrics", headers=AUTH).text)
    assert _value(samples, "cunban_http_requests_total", route="/", status="200") == 1
    assert _value(samples, "cunban_follower_state", node="lianzhou", state="following") == 1
    assert _value(samples, "cunban_follower_restarts", node="lianzhou") == 2
    assert _value(samples, "cunban_follower_rss_bytes", node="lianzhou") == 35000 * 1024
    assert open_steps
    for node, count in open_steps.items():
        assert _value(samples, "cunban_steps_open", node=node) == count
    for node in ("lianzhou", "fucheng"):
        assert _value(samples, "cunban_feed_backlog", node=node) == backlog.get(node, 0)
    assert {labels["node"] for n, labels, _v in samples if n == "cunban_ratings"} == {
        "lianzhou",
        "fucheng",
    }
