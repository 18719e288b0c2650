"""HTTPS and sessions (issue 12, finding 14): every cookie is Secure and HSTS is sent where
the node is served over HTTPS, an unused session ends, the demo prints no resident's phone
and no names."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from edge.__main__ import main as edge_main
from edge.app import create_app
from edge.kernel.settings import WebSettings
from edge.settings import Settings
from tests.conftest import HUANZHU, STAFF, login, prepare


@pytest.fixture
def plain_http(settings: Settings, clock) -> Iterator[TestClient]:
    """The node served over plain HTTP (a loopback demo): CUNBAN_COOKIE_SECURE=false."""
    plain = dataclasses.replace(settings, web=WebSettings(port=8001, cookie_secure=False))
    asyncio.run(prepare(plain))
    with TestClient(create_app(plain, clock), base_url="http://testserver") as client:
        yield client


def _set_cookies(response) -> dict[str, str]:
    return {line.split("=")[0]: line for line in response.headers.get_list("set-cookie")}


def test_every_cookie_is_secure_over_https(client):
    assert set(_set_cookies(client.get("/?lang=en"))) == {"cb_lang"}  # a kept public page
    first = _set_cookies(client.get("/login?lang=en"))  # a sign-in form: the visitor cookie
    assert set(first) == {"cb_lang", "cb_csrf"}
    client.get("/")
    chosen = _set_cookies(
        client.post("/village", data={"village": HUANZHU}, follow_redirects=False)
    )
    session = _set_cookies(login(client, STAFF))
    for name, line in {**first, **chosen, **session}.items():
        assert "; Secure" in line or "; secure" in line, name
    assert set(chosen) == {"cb_village"}


def test_hsts_over_https_only(client, plain_http):
    for path in ("/", "/login", "/healthz"):
        assert client.get(path).headers["strict-transport-security"] == "max-age=31536000"
        assert "strict-transport-security" not in plain_http.get(path).headers
    cookies = _set_cookies(plain_http.get("/?lang=en"))
    assert cookies and not [line for line in cookies.values() if "secure" in line.lower()]


def test_an_unused_session_ends_after_the_idle_timeout(client, clock):
    login(client, STAFF)
    for _ in range(3):  # used every 20 minutes: an hour on, still signed in
        clock.advance(minutes=20)
        assert client.get("/staff/", follow_redirects=False).status_code == 200
    clock.advance(minutes=31)
    left = client.get("/staff/", follow_redirects=False)
    assert left.status_code == 303 and left.headers["location"] == "/login?next=/staff/"


def test_a_used_session_still_ends_after_session_hours(client, clock):
    login(client, STAFF)
    for _ in range(12 * 3 - 1):
        clock.advance(minutes=20)
        assert client.get("/staff/", follow_redirects=False).status_code == 200
    clock.advance(minutes=20)
    assert client.get("/staff/", follow_redirects=False).status_code == 303


def test_the_demo_prints_no_residents_phone_and_no_names(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CUNBAN_NODE_ID", "lianzhou")
    monkeypatch.setenv("CUNBAN_TOWNSHIP_CODE", "450521100000")
    monkeypatch.setenv("CUNBAN_DATA_DIR", str(tmp_path / "edge"))
    assert edge_main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "13807710021" not in out and "潘桂兰" not in out  # the demo resident
    assert "138****0021  resident        潘**" in out
    for name in ("李秀英", "盛巧云", "黄丽娟"):
        assert name not in out
    assert "13807710002  township_staff  李**" in out  # a worker's phone is the demo's login


def test_renewing_a_session_never_fails_a_page(client, clock, settings):
    """The idle renewal is a write; with the write lock held elsewhere it is skipped, and the
    page is still served (a read)."""
    login(client, STAFF)
    clock.advance(minutes=2)
    with sqlite3.connect(settings.database_path) as other:
        other.execute("BEGIN IMMEDIATE")
        try:
            assert client.get("/staff/", follow_redirects=False).status_code == 200
        finally:
            other.rollback()
