"""Central's replication monitor: /nodes and /nodes.json as a central admin sees them."""

from __future__ import annotations

import gzip
import http.server
import json
import random
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime

import pytest
from starlette.testclient import TestClient
from ulid import ULID

from central.app import create_app
from central.monitor.status import percentile
from central.settings import CentralSettings
from edge.kernel.auth.passwords import hash_password
from tests.conftest import FUCHENG, LIANZHOU, login
from tests.loopback_server import serving

CITY = "450500000000"
ADMIN_PHONE = "13907790001"
OFFICER_PHONE = "13907790002"
PASSWORD = "monitor-test-2026"
FIRST_ROUND_TRIP = 13_032
CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')

# The lags of Lianzhou's newest 100 samples (101..200 ms, in a fixed shuffled order); its 50
# older samples lag 9 s and must not count.
LAGS = list(range(101, 201))
random.Random(7).shuffle(LAGS)

JSON_KEYS = [
    "audit_problems",
    "audit_state",
    "base_url",
    "beat_age_ms",
    "beat_at",
    "blob_backlog_ms",
    "blobs_waiting",
    "commands_refused",
    "commands_waiting",
    "county_en",
    "county_zh",
    "edge_health",
    "feed_error",
    "feed_pulled_age_ms",
    "feed_pulled_at",
    "follower_error",
    "follower_pid",
    "follower_restarts",
    "follower_rss_kb",
    "follower_started_at",
    "follower_state",
    "follower_updated_at",
    "lag_last_ms",
    "lag_p50_ms",
    "lag_p95_ms",
    "lag_samples",
    "last_applied_at",
    "last_applied_seq",
    "last_sent_at",
    "last_sent_seq",
    "mirror_good_age_ms",
    "mirror_good_at",
    "mirror_state",
    "node_id",
    "oldest_blob_waiting_at",
    "replica_generation",
    "silent",
    "township_code",
    "township_en",
    "township_zh",
]


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"node_id": "edge", "database_ok": True}).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def healthy_edge() -> Iterator[str]:
    """A real HTTP server on loopback answering /healthz with 200."""
    yield from serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthz))


@pytest.fixture
def closed_port() -> str:
    """A loopback address nobody listens on: connections are refused."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def hung_edges() -> Iterator[list[str]]:
    """Two loopback ports that accept connections and never answer."""
    sockets = [socket.socket() for _ in range(2)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
        yield [f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _db(tmp_path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "central.db", isolation_level=None, timeout=5)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _add_account(conn: sqlite3.Connection, phone: str, role: str) -> None:
    """An account in central.db, which holds the jurisdictions and departments already."""
    conn.execute(
        "INSERT INTO accounts (id, phone, name, role, jurisdiction_code, department_code, "
        "password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "'2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00')",
        (
            str(ULID()),
            phone,
            "测试",
            role,
            CITY,
            "civil" if role == "officer" else None,
            hash_password(PASSWORD),
        ),
    )


def _add_node(conn: sqlite3.Connection, node_id: str, code: str, base_url: str) -> None:
    conn.execute(
        "INSERT INTO nodes (node_id, township_code, township_zh, township_en, county_zh, "
        "county_en, base_url, registered_at) VALUES (?, ?, ?, ?, '海城区', 'Haicheng District', "
        "?, '2026-11-01T00:00:00+00:00')",
        (node_id, code, f"{node_id}镇", f"{node_id} Town", base_url),
    )


def _command(conn: sqlite3.Connection, node_id: str) -> tuple[str, int]:
    command_id = str(ULID())
    cursor = conn.execute(
        "INSERT INTO commands (id, node_id, kind, payload, created_at) "
        "VALUES (?, ?, 'calendar', '{}', '2026-11-23T08:00:00+00:00')",
        (command_id, node_id),
    )
    return command_id, cursor.lastrowid


def _applied(conn: sqlite3.Connection, node_id: str, command: tuple[str, int], result: str) -> None:
    conn.execute(
        "INSERT INTO edge_applied_commands (node_id, id, seq, kind, result, detail, applied_at) "
        "VALUES (?, ?, ?, 'calendar', ?, '', ?)",
        (node_id, command[0], command[1], result, f"2026-11-23T08:0{command[1]}:00+00:00"),
    )


def _blobs(conn: sqlite3.Connection, node_id: str, waiting: int, uploaded: int) -> None:
    for n in range(waiting + uploaded):
        conn.execute(
            "INSERT INTO edge_blobs (node_id, sha256, bytes, created_at, uploaded_at) "
            "VALUES (?, ?, 1000, ?, ?)",
            (
                node_id,
                f"{node_id}-{n:060d}",
                f"2026-11-2{n % 3}T00:00:00+00:00",
                None if n < waiting else "2026-11-23T00:00:00+00:00",
            ),
        )


def _seed(conn: sqlite3.Connection, now_ms: int) -> None:
    """Lianzhou healthy with history; Fucheng silent and backing off; Qiaogang never heard of."""
    conn.execute(
        "INSERT INTO edge_heartbeat (node_id, id, beat_ms, feed_pulled_ms, feed_error, "
        "ingested_ms) VALUES ('lianzhou', 1, ?, ?, '', ?)",
        (now_ms - 5_000, now_ms - 20_000, now_ms - 4_800),
    )
    conn.execute(
        "INSERT INTO edge_heartbeat (node_id, id, beat_ms, feed_pulled_ms, feed_error, "
        "ingested_ms) VALUES ('fucheng', 1, ?, NULL, '证书错误', ?)",
        (now_ms - 61_000, now_ms - 60_500),
    )
    start = now_ms - 200_000
    for n in range(150):
        lag = 9_000 if n < 50 else LAGS[n - 50]
        conn.execute(
            "INSERT INTO lag_samples (node_id, beat_ms, ingested_ms) VALUES ('lianzhou', ?, ?)",
            (start + n * 1_000, start + n * 1_000 + lag),
        )
    for n, lag in enumerate((300, 400)):
        conn.execute(
            "INSERT INTO lag_samples (node_id, beat_ms, ingested_ms) VALUES ('fucheng', ?, ?)",
            (start + n * 1_000, start + n * 1_000 + lag),
        )
    conn.execute(
        "INSERT INTO followers (node_id, state, pid, restarts, started_ms, rss_kb, last_error, "
        "updated_ms, replica_generation, mirror_state, mirror_good_ms) "
        "VALUES ('lianzhou', 'following', 4242, 1, ?, 35840, '', ?, 2, 'ok', ?)",
        (now_ms - 3_600_000, now_ms - 1_000, now_ms - 4_000),
    )
    conn.execute(
        "INSERT INTO followers (node_id, state, pid, restarts, started_ms, rss_kb, last_error, "
        "updated_ms, replica_generation, mirror_state, mirror_good_ms) "
        "VALUES ('fucheng', 'backoff', NULL, 3, NULL, NULL, '副本读取失败', ?, 1, 'corrupt', ?)",
        (now_ms - 2_000, now_ms - 600_000),
    )
    # Feed seqs interleave between nodes: lianzhou 1 2 3 5, fucheng 4 6.
    lianzhou = [_command(conn, "lianzhou") for _ in range(3)]
    fucheng = [_command(conn, "fucheng")]
    lianzhou.append(_command(conn, "lianzhou"))
    fucheng.append(_command(conn, "fucheng"))
    _applied(conn, "lianzhou", lianzhou[0], "applied")
    _applied(conn, "lianzhou", lianzhou[1], "refused")
    _applied(conn, "lianzhou", lianzhou[2], "applied")
    _blobs(conn, "lianzhou", waiting=7, uploaded=2)
    _blobs(conn, "fucheng", waiting=0, uploaded=1)


def _monitor(tmp_path, clock, nodes: str) -> TestClient:
    settings = CentralSettings(data_dir=tmp_path, nodes=nodes)
    return TestClient(create_app(settings, clock), base_url="https://testserver")


def _sign_in(client: TestClient, tmp_path, phone: str, role: str) -> None:
    with closing(_db(tmp_path)) as conn:
        _add_account(conn, phone, role)
    response = login(client, phone, PASSWORD)
    assert response.status_code == 303, response.text


def _row(html: str, node_id: str) -> str:
    match = re.search(rf'<tr id="node-{node_id}"[^>]*>.*?</tr>', html, re.S)
    assert match, f"no row for {node_id}"
    return match.group(0)


@pytest.fixture
def seeded(tmp_path, clock, healthy_edge, closed_port) -> Iterator[TestClient]:
    """Central with three nodes (one edge healthy, one answering 404, one closed port) and a
    signed-in central admin."""
    nodes = f"lianzhou={LIANZHOU}={healthy_edge},fucheng={FUCHENG}={closed_port}"
    with _monitor(tmp_path, clock, nodes) as client:
        with closing(_db(tmp_path)) as conn:
            _add_node(conn, "qiaogang", "450502100000", f"{healthy_edge}/gone")  # answers 404
            _seed(conn, _ms(clock()))
        _sign_in(client, tmp_path, ADMIN_PHONE, "central_admin")
        yield client


def test_percentiles_are_nearest_rank():
    assert percentile(list(range(101, 201)), 50) == 150
    assert percentile(list(range(101, 201)), 95) == 195
    assert percentile([100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200], 95) == 200
    assert percentile([7], 50) == 7
    assert percentile([], 95) is None


def test_admin_sees_lag_silence_feed_and_backlog(seeded, clock):
    page = seeded.get("/nodes")
    assert page.status_code == 200
    assert "<html" in page.text and "节点监控" in page.text
    lianzhou = _row(page.text, "lianzhou")
    assert "廉州镇" in lianzhou and "合浦县" in lianzhou
    assert f"<td>{LAGS[-1]}</td><td>150</td><td>195</td>" in lianzhou
    assert "badge-red" not in lianzhou and "在线" in lianzhou and "5 秒前" in lianzhou
    assert "跟随中" in lianzhou and "重启 1 次" in lianzhou and "35 MB" in lianzhou
    assert "待执行 1" in lianzhou and "被拒 1" in lianzhou
    assert "已发出 5" in lianzhou and "已执行 3" in lianzhou
    assert "<td>7</td>" in lianzhou
    assert "正常" in lianzhou
    assert (
        "镜像完好" in lianzhou and "副本第 2 代" in lianzhou and "上次确认完好 4 秒前" in lianzhou
    )

    fucheng = _row(page.text, "fucheng")
    assert 'class="card-red"' in fucheng and "badge-red" in fucheng and "失联" in fucheng
    assert "61 秒前" in fucheng and "证书错误" in fucheng
    assert "等待重试" in fucheng and "重启 3 次" in fucheng and "副本读取失败" in fucheng
    assert "<td>400</td><td>300</td><td>400</td>" in fucheng
    assert "待执行 2" in fucheng and "被拒 0" in fucheng and "已执行 —" in fucheng
    assert "<td>0</td>" in fucheng
    assert "无法连接" in fucheng
    assert (
        "镜像损坏" in fucheng and "副本第 1 代" in fucheng and "上次确认完好 10 分钟前" in fucheng
    )

    qiaogang = _row(page.text, "qiaogang")
    assert "badge-red" in qiaogang and "从未收到心跳" in qiaogang and "未启动" in qiaogang
    assert "<td>—</td><td>—</td><td>—</td>" in qiaogang and "自检异常" in qiaogang
    assert "2 个节点失联" in page.text

    clock.advance(seconds=56)  # Lianzhou's last heartbeat is now 61 s old
    later = seeded.get("/nodes")
    assert "badge-red" in _row(later.text, "lianzhou")
    assert "3 个节点失联" in later.text


def test_a_corrupt_mirror_turns_a_live_node_red(seeded, tmp_path):
    assert 'class="card-red"' not in _row(seeded.get("/nodes").text, "lianzhou")
    with closing(_db(tmp_path)) as conn:
        conn.execute("UPDATE followers SET mirror_state = 'corrupt' WHERE node_id = 'lianzhou'")
        conn.commit()
    lianzhou = _row(seeded.get("/nodes").text, "lianzhou")
    assert 'class="card-red"' in lianzhou and "镜像损坏" in lianzhou and "在线" in lianzhou


def test_json_has_stable_keys_and_figures(seeded, clock):
    response = seeded.get("/nodes.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["generated_at"] == "2026-11-23T09:00:00.000+00:00"
    assert body["silent_after_ms"] == 60_000
    assert body["lag_window"] == 100
    nodes = {node["node_id"]: node for node in body["nodes"]}
    assert [node["node_id"] for node in body["nodes"]] == ["qiaogang", "fucheng", "lianzhou"]
    assert all(list(node) == JSON_KEYS for node in body["nodes"])
    lianzhou = nodes["lianzhou"]
    assert lianzhou["silent"] is False
    assert lianzhou["beat_at"] == "2026-11-23T08:59:55.000+00:00"
    assert lianzhou["beat_age_ms"] == 5_000
    assert lianzhou["feed_pulled_age_ms"] == 20_000
    assert lianzhou["feed_pulled_at"] == "2026-11-23T08:59:40.000+00:00"
    assert (lianzhou["lag_last_ms"], lianzhou["lag_p50_ms"], lianzhou["lag_p95_ms"]) == (
        LAGS[-1],
        150,
        195,
    )
    assert lianzhou["lag_samples"] == 100
    assert lianzhou["follower_state"] == "following"
    assert (lianzhou["follower_pid"], lianzhou["follower_rss_kb"]) == (4242, 35840)
    assert lianzhou["follower_started_at"] == "2026-11-23T08:00:00.000+00:00"
    assert lianzhou["last_sent_seq"] == 5 and lianzhou["last_applied_seq"] == 3
    assert lianzhou["last_applied_at"] == "2026-11-23T08:03:00+00:00"
    assert lianzhou["commands_waiting"] == 1 and lianzhou["commands_refused"] == 1
    assert lianzhou["blobs_waiting"] == 7
    assert lianzhou["oldest_blob_waiting_at"] == "2026-11-20T00:00:00+00:00"
    assert lianzhou["edge_health"] == "ok"
    fucheng = nodes["fucheng"]
    assert fucheng["silent"] is True and fucheng["beat_age_ms"] == 61_000
    assert fucheng["feed_pulled_at"] is None and fucheng["feed_error"] == "证书错误"
    assert (fucheng["lag_last_ms"], fucheng["lag_p50_ms"], fucheng["lag_p95_ms"]) == (
        400,
        300,
        400,
    )
    assert fucheng["follower_state"] == "backoff" and fucheng["follower_restarts"] == 3
    assert fucheng["commands_waiting"] == 2 and fucheng["commands_refused"] == 0
    assert fucheng["last_applied_seq"] is None and fucheng["blobs_waiting"] == 0
    assert fucheng["edge_health"] == "unreachable"
    qiaogang = nodes["qiaogang"]
    assert qiaogang["silent"] is True and qiaogang["beat_at"] is None
    assert qiaogang["lag_samples"] == 0 and qiaogang["lag_p95_ms"] is None
    assert qiaogang["follower_state"] is None and qiaogang["follower_restarts"] == 0
    assert qiaogang["commands_waiting"] == 0 and qiaogang["last_sent_seq"] is None
    assert qiaogang["edge_health"] == "unhealthy"

    clock.advance(seconds=56)
    assert seeded.get("/nodes.json").json()["nodes"][2]["silent"] is True


def test_the_photo_backlog_is_the_age_of_the_oldest_photo_not_in_the_store(seeded, clock, tmp_path):
    with closing(_db(tmp_path)) as conn:  # qiaogang: one photo recorded 12 s ago, not uploaded
        conn.execute(
            "INSERT INTO edge_blobs (node_id, sha256, bytes, created_at) VALUES (?, ?, 1000, ?)",
            ("qiaogang", "f" * 64, "2026-11-23T08:59:48+00:00"),
        )
    nodes = {node["node_id"]: node for node in seeded.get("/nodes.json").json()["nodes"]}
    assert nodes["lianzhou"]["blob_backlog_ms"] == 291_600_000  # since 2026-11-20T00:00
    assert nodes["qiaogang"]["blob_backlog_ms"] == 12_000
    assert nodes["fucheng"]["blob_backlog_ms"] is None  # everything uploaded
    page = seeded.get("/nodes")
    assert "照片积压（秒）" in page.text
    assert '<td>7</td>\n<td class="error">291,600</td>' in _row(page.text, "lianzhou")
    assert "<td>1</td>\n<td>12</td>" in _row(page.text, "qiaogang")  # under 30 s: not red
    assert "<td>0</td>\n<td>—</td>" in _row(page.text, "fucheng")
    clock.advance(seconds=20)
    assert '<td>1</td>\n<td class="error">32</td>' in _row(seeded.get("/nodes").text, "qiaogang")


def test_refresh_renders_only_the_table_under_htmx(seeded):
    page = seeded.get("/nodes")
    assert re.search(r'<a href="/nodes" hx-get="/nodes" hx-target="#monitor"', page.text)
    assert 'id="monitor"' in page.text
    assert "HX-Request" in page.headers["vary"]
    fragment = seeded.get("/nodes", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<h1>" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="monitor"')
    assert "<td>7</td>" in _row(fragment.text, "lianzhou")
    assert "HX-Request" in fragment.headers["vary"]


def test_queries_do_not_grow_with_the_nodes(seeded, tmp_path, clock):
    def statements() -> int:
        seen: list[str] = []
        db = seeded.app.state.node.db
        db.add_tracer(seen.append)
        try:
            assert seeded.get("/nodes.json").status_code == 200
        finally:
            db.remove_tracer(seen.append)
        return len([sql for sql in seen if sql.lstrip().upper().startswith(("SELECT", "WITH"))])

    seeded.get("/nodes.json")  # the session is then found without SQL while nothing changed
    before = statements()
    with closing(_db(tmp_path)) as conn:
        for n in range(5):
            node_id = f"extra{n}"
            _add_node(conn, node_id, f"4505041{n}0000", "http://127.0.0.1:9")
            _command(conn, node_id)
            conn.execute(
                "INSERT INTO lag_samples (node_id, beat_ms, ingested_ms) VALUES (?, 1, 2)",
                (node_id,),
            )
    assert len(seeded.get("/nodes.json").json()["nodes"]) == 8
    assert statements() == before <= 4


def test_page_fits_the_first_round_trip(seeded):
    page = seeded.get("/nodes")
    assert not CSS_LINK.findall(page.text) and "<style>" in page.text  # CSS inline
    size = len(gzip.compress(page.content))
    assert size <= FIRST_ROUND_TRIP


def test_slow_edges_never_hold_the_page_beyond_the_timeout(
    tmp_path, clock, hung_edges, healthy_edge
):
    nodes = f"lianzhou={LIANZHOU}={healthy_edge},fucheng={FUCHENG}={hung_edges[0]}"
    with _monitor(tmp_path, clock, nodes) as client:
        with closing(_db(tmp_path)) as conn:
            _add_node(conn, "qiaogang", "450502100000", hung_edges[1])
        _sign_in(client, tmp_path, ADMIN_PHONE, "central_admin")
        started = time.monotonic()
        body = client.get("/nodes.json").json()
        elapsed = time.monotonic() - started
    health = {node["node_id"]: node["edge_health"] for node in body["nodes"]}
    # Probed together: the healthy edge, asked last, is not starved by the two hung ones.
    assert health == {"qiaogang": "unreachable", "fucheng": "unreachable", "lianzhou": "ok"}
    assert 1.4 <= elapsed < 2.5


def test_only_central_admins_may_look(tmp_path, clock, closed_port):
    with _monitor(tmp_path, clock, f"fucheng={FUCHENG}={closed_port}") as client:
        for path in ("/nodes", "/nodes.json"):
            anonymous = client.get(path, follow_redirects=False)
            assert anonymous.status_code == 303
            assert anonymous.headers["location"] == f"/login?next={path}"
        _sign_in(client, tmp_path, OFFICER_PHONE, "officer")
        for path in ("/nodes", "/nodes.json"):
            refused = client.get(path, follow_redirects=False)
            assert refused.status_code == 403
            assert "福成镇" not in refused.text
