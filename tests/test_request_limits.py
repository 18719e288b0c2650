"""Request limits on a real uvicorn process: a huge head is 431, a huge body 413, both answered
before the rest is read, and the process does not grow (issue 12, finding 12)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser_support import EdgeNode
from tests.conftest import AGENT_QIANJIANG
from tests.raw_http import request, signed_in

MB = 1024 * 1024


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert found
    return int(found.group(1))


def _signed_in(edge: EdgeNode) -> dict[str, str]:
    """Cookie and CSRF headers of a signed-in agent, as the agent app sends them."""
    return {**signed_in(edge.url, AGENT_QIANJIANG), "Content-Type": "application/json"}


def test_an_8_mb_header_is_431_before_it_is_read(edge: EdgeNode) -> None:
    answer = request(edge.url, "GET", "/", {"X-Padding": "a" * (8 * MB)})
    assert answer.status == 431
    assert request(edge.url, "GET", "/healthz", {}).status == 200


def test_a_50_mb_json_body_is_413_without_reading_it(edge: EdgeNode) -> None:
    headers = _signed_in(edge)
    assert request(edge.url, "POST", "/push/subscriptions", headers, 100).status == 400
    before = _rss_kb(edge.pid)
    declared = request(edge.url, "POST", "/push/subscriptions", headers, 50 * MB)
    chunked = {**headers, "Transfer-Encoding": "chunked"}
    streamed = request(edge.url, "POST", "/push/subscriptions", chunked, 50 * MB)
    grown_kb = _rss_kb(edge.pid) - before
    assert (declared.status, streamed.status) == (413, 413)
    assert declared.body_sent < 10 * MB and streamed.body_sent < 10 * MB
    assert grown_kb < 5 * 1024, f"the process grew {grown_kb} kB"


def test_a_photo_route_takes_its_own_larger_limit(edge: EdgeNode) -> None:
    headers = {**_signed_in(edge), "Content-Type": "image/jpeg"}
    path = "/agent/outbox/photos/" + "0" * 64
    assert request(edge.url, "PUT", path, headers, 1 * MB).status == 400  # read: hash differs
    assert request(edge.url, "PUT", path, headers, 3 * MB).status == 413


def test_a_large_head_is_431_under_any_server_too(client) -> None:
    answer = client.get("/", headers={"X-Padding": "a" * 40_000})
    assert answer.status_code == 431
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/", headers={"X-Padding": "a" * 20_000}).status_code == 200
