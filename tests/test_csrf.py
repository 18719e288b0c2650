"""CSRF at both nodes (issue 12, findings 8 and 9): another site cannot post, a planted
visitor cookie signs no one in, anonymous pages carry no per-visitor token, and a token that is
not ASCII is a 403, never a 500 or a traceback in the log."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edge.accounts.demo_people import DEMO_PASSWORD
from edge.kernel.csrf import FIELD
from tests.central_support import central, central_rows, demo_edges, edges  # noqa: F401
from tests.conftest import STAFF, csrf_of, login

CIVIL_HEPU = "13807700100"
NON_ASCII = "令牌ü"
OTHER_SITES = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "https://testserver.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain can plant cookies
    {"Sec-Fetch-Site": "cross-site", "Origin": "https://testserver"},
    {"Referer": "https://evil.example/page"},
]
OWN_SITE = [
    {"Origin": "https://testserver"},
    {"Sec-Fetch-Site": "same-origin"},
    {"Referer": "https://testserver/login"},
    {},  # an old browser that says nothing: the node-signed visitor cookie decides
]


def _sessions(settings) -> int:
    with sqlite3.connect(settings.database_path) as conn:
        return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]


def _sign_in(client, headers: dict[str, str]):
    """The login form posted as the visitor's browser would, with the cookie's value also in
    the field (what a double-submit check would have accepted)."""
    client.get("/login")
    data = {"phone": STAFF, "password": DEMO_PASSWORD, "next": ""}
    data[FIELD] = client.cookies.get("cb_csrf", "")
    return client.post("/login", data=data, headers=headers, follow_redirects=False)


def test_a_planted_visitor_cookie_and_matching_field_sign_no_one_in(client, settings):
    client.cookies.set("cb_csrf", "planted-by-the-attacker")
    data = {"phone": STAFF, "password": DEMO_PASSWORD, FIELD: "planted-by-the-attacker"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "cb_session" not in response.headers.get("set-cookie", "")
    assert _sessions(settings) == 0


@pytest.mark.parametrize("headers", OTHER_SITES)
def test_another_site_cannot_sign_a_visitor_in(client, settings, headers):
    response = _sign_in(client, headers)
    assert response.status_code == 403, headers
    assert "页面已过期或来源不明" in response.text
    assert _sessions(settings) == 0


@pytest.mark.parametrize("headers", OWN_SITE)
def test_the_sites_own_login_form_works_with_or_without_origin(client, settings, headers):
    response = _sign_in(client, headers)
    assert response.status_code == 303, headers
    assert response.headers["location"] == "/staff/"
    assert _sessions(settings) == 1


def test_another_site_cannot_post_for_a_signed_in_person(client, settings):
    login(client, STAFF)
    token = csrf_of(client.get("/staff/").text)
    refused = client.post(
        "/logout",
        data={FIELD: token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert _sessions(settings) == 1
    own = client.post("/logout", data={FIELD: token}, headers={"Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 200 and _sessions(settings) == 0


def test_anonymous_pages_carry_no_per_visitor_token(client, settings):
    for path in ("/login", "/"):
        first = client.get(path)
        client.cookies.clear()
        second = client.get(path)
        assert first.status_code == second.status_code == 200
        for page in (first.text, second.text):
            assert FIELD not in page and "X-CSRF-Token" not in page, path
        assert first.text == second.text, path


def test_a_non_ascii_token_is_refused_not_a_crash_at_the_edge(client, settings, caplog):
    caplog.set_level(logging.INFO)
    login(client, STAFF)
    response = client.post("/logout", data={FIELD: NON_ASCII}, follow_redirects=False)
    assert response.status_code == 403
    assert _sessions(settings) == 1
    header = client.post(
        "/logout", headers={"X-CSRF-Token": "t\u00e9".encode("latin-1")}, follow_redirects=False
    )
    assert header.status_code == 403
    client.cookies.clear()
    cookie = b"cb_csrf=" + NON_ASCII.encode()
    data = {"phone": STAFF, "password": DEMO_PASSWORD}
    visitor = client.post("/login", data=data, headers={"Cookie": cookie})
    assert visitor.status_code == 403
    assert not [record for record in caplog.records if record.exc_info]
    assert NON_ASCII not in caplog.text


def test_a_non_ascii_token_is_refused_not_a_crash_at_central(central, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    login(central, CIVIL_HEPU)
    response = central.post("/logout", data={FIELD: NON_ASCII}, follow_redirects=False)
    assert response.status_code == 403
    assert central_rows(central, "SELECT count(*) FROM sessions")[0][0] == 1
    assert not [record for record in caplog.records if record.exc_info]


def test_a_failure_is_logged_by_type_and_path_and_not_handed_to_the_server(client, caplog):
    async def broken(request: Request) -> Response:
        raise RuntimeError("旧记录 13800138000 的身份证 450521199001011234")

    client.app.router.routes.append(Route("/broken", broken))
    caplog.set_level(logging.INFO)
    response = client.get("/broken")  # the test client re-raises what reaches the server
    assert response.status_code == 500
    assert "服务器暂时出了点问题" in response.text
    app_records = [record for record in caplog.records if record.name != "httpx2"]
    assert [record.getMessage() for record in app_records] == [
        "unhandled RuntimeError on GET /broken"
    ]
    assert not [record for record in caplog.records if record.exc_info]


PUBLIC_PAGES = ["/", "/services", "/services/MZ-002", "/disclosure/", "/disclosure/powers", "/news"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_set_no_cookie_and_are_the_same_bytes_for_everyone(client, path):
    """Issue 17: nothing per visitor, so the node, a proxy and the worker may keep them."""
    first = client.get(path)
    second = client.get(path, headers={"Cookie": ""})
    assert first.status_code == second.status_code == 200
    for page in (first, second):
        assert "set-cookie" not in page.headers, path
        assert page.headers["cache-control"].startswith("public, max-age="), path
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]


def test_a_browser_that_names_this_site_needs_no_cookie(client, settings):
    client.cookies.clear()
    data = {"phone": STAFF, "password": DEMO_PASSWORD, "next": ""}
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": "https://testserver"}):
        response = client.post("/login", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 303, headers
        client.cookies.clear()
    assert _sessions(settings) == 2


def test_a_browser_that_names_nothing_and_sends_no_cookie_cannot_sign_in(client, settings):
    client.cookies.clear()
    data = {"phone": STAFF, "password": DEMO_PASSWORD, "next": ""}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert _sessions(settings) == 0


def test_the_village_choice_on_the_kept_home_page(client):
    """The home page sets no cookie; its village form (a choice kept in the visitor's own
    browser) is refused from another site and taken from a browser that names nothing."""
    from tests.conftest import HUANZHU

    assert "set-cookie" not in client.get("/").headers
    for headers in OTHER_SITES:
        refused = client.post("/village", data={"village": HUANZHU}, headers=headers)
        assert refused.status_code == 403, headers
        assert "cb_village" not in client.cookies
    taken = client.post("/village", data={"village": HUANZHU}, follow_redirects=False)
    assert taken.status_code == 303 and "cb_village" in taken.headers["set-cookie"]
