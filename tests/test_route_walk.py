"""Every route of both nodes, walked on real uvicorn processes: a non-ASCII CSRF token, a 1 MB
header and a body past the route's limit each get an answer below 500, the header 431, and the
body is answered before it is all sent (issue 12: no 500, no unbounded read)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import BaseRoute, Mount, Route

from central.app import create_app as create_central
from central.settings import CentralSettings
from edge.app import create_app as create_edge
from edge.kernel.request_limits import body_limit
from edge.settings import Settings
from tests.browser_support import EdgeNode
from tests.central_process import central_serving
from tests.conftest import AGENT_QIANJIANG, LIANZHOU
from tests.raw_http import Answer, request, signed_in
from tests.test_central_officer import CIVIL_HEPU

MB = 1024 * 1024
PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
TOKEN = "令牌"  # not ASCII
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _concrete(path: str) -> str:
    return PARAM.sub(lambda m: "1" if m.group(2) == "int" else "x", path)


def _targets(routes: list[BaseRoute]) -> Iterator[tuple[str, str, object]]:
    """(method, path, endpoint) for every method of every route; a mount's files by one GET;
    /logout last, so the signed-in walk stays signed in."""
    for route in sorted(routes, key=lambda route: getattr(route, "path", "").endswith("/logout")):
        if isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                yield method, _concrete(route.path), route.endpoint
        elif isinstance(route, Mount):
            yield "GET", _concrete(route.path) + "/x", route.app


@pytest.fixture(scope="module")
def central_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real central process with its demo accounts."""
    with central_serving(tmp_path_factory.mktemp("walk-central")) as url:
        yield url


def _walk(url: str, routes: list[BaseRoute], session: dict[str, str]) -> list[str]:
    """What went wrong on each route, as `METHOD path: probe -> answer`."""
    wrong = []
    for method, path, endpoint in _targets(routes):
        as_form = {"Content-Type": "application/x-www-form-urlencoded"}
        foreign = {**session, **as_form, "X-CSRF-Token": TOKEN, "Cookie": _with_csrf(session)}
        size = body_limit(endpoint) + 8 * MB
        probes: dict[str, tuple[Answer, bool]] = {}
        token = request(url, method, path, foreign, 32 if method in UNSAFE else 0)
        probes["non-ASCII token"] = (token, token.status < 500)
        header = request(url, method, path, {**session, "X-Padding": "a" * MB})
        probes["1 MB header"] = (header, header.status == 431)
        body = request(url, method, path, {**session, **as_form}, size)
        probes["oversized body"] = (body, body.status < 500 and body.body_sent < size)
        wrong += [
            f"{method} {path}: {probe} -> {answer.status} after {answer.body_sent} bytes"
            for probe, (answer, right) in probes.items()
            if not right
        ]
    return wrong


def _with_csrf(session: dict[str, str]) -> str:
    """The session's cookies plus an anonymous CSRF cookie that is not ASCII."""
    return "; ".join(filter(None, [session.get("Cookie", ""), f"cb_csrf={TOKEN}"]))


def test_every_edge_route_survives_the_walk(edge: EdgeNode, tmp_path: Path) -> None:
    routes = create_edge(Settings("lianzhou", LIANZHOU, data_dir=tmp_path)).routes
    wrong = _walk(edge.url, routes, {}) + _walk(
        edge.url, routes, signed_in(edge.url, AGENT_QIANJIANG)
    )
    assert wrong == [], "\n".join(wrong)


def test_every_central_route_survives_the_walk(central_url: str, tmp_path: Path) -> None:
    routes = create_central(CentralSettings(data_dir=tmp_path)).routes
    wrong = _walk(central_url, routes, {}) + _walk(
        central_url, routes, signed_in(central_url, CIVIL_HEPU)
    )
    assert wrong == [], "\n".join(wrong)
