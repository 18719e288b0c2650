"""Login, logout, session rotation, lockout and CSRF, through the real forms."""

from __future__ import annotations

import sqlite3

from starlette.routing import Route

from edge.kernel.csrf import FIELD
from tests.conftest import ADMIN, AGENT_QIANJIANG, STAFF, csrf_of, login


def _session_rows(settings) -> int:
    with sqlite3.connect(settings.database_path) as conn:
        return conn.execute("SELECT count(*) FROM sessions").fetchone()[0]


def test_login_lands_on_the_role_home_with_a_safe_cookie(client, settings):
    response = login(client, AGENT_QIANJIANG)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("cb_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax"):
        assert flag in cookie
    home = client.get("/agent/")
    assert home.status_code == 200
    assert "乾江村" in home.text and "盛巧云" in home.text
    assert _session_rows(settings) == 1


def test_login_rotates_the_session(client, settings):
    login(client, STAFF)
    first = client.cookies.get("cb_session")
    login(client, STAFF)
    second = client.cookies.get("cb_session")
    assert first != second
    assert _session_rows(settings) == 1  # the old session is gone server-side


def test_logout_kills_the_session_on_the_server(client, settings):
    login(client, STAFF)
    token = client.cookies.get("cb_session")
    page = client.get("/staff/")
    response = client.post("/logout", data={FIELD: csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303
    assert _session_rows(settings) == 0
    client.cookies.clear()
    client.cookies.set("cb_session", token)  # replay the old cookie
    replay = client.get("/staff/", follow_redirects=False)
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login")


def test_wrong_password_is_refused_without_saying_which_part(client):
    response = login(client, STAFF, "wrong-password")
    assert response.status_code == 401
    assert "手机号码或密码不正确" in response.text
    unknown = login(client, "13900000000", "whatever-pass")
    assert unknown.status_code == 401
    assert "手机号码或密码不正确" in unknown.text


def test_malformed_login_shows_the_form_again(client):
    client.get("/login")
    response = client.post("/login", data={"phone": "12ab", "password": ""}, follow_redirects=False)
    assert response.status_code == 400
    assert "请输入11位手机号码" in response.text
    assert 'value="12ab"' in response.text


def test_five_failures_lock_the_account_for_fifteen_minutes(client, clock):
    for _attempt in range(4):
        assert login(client, STAFF, "wrong-password").status_code == 401
    fifth = login(client, STAFF, "wrong-password")
    assert fifth.status_code == 429
    locked = login(client, STAFF)  # even the right password
    assert locked.status_code == 429
    assert "15 分钟后再试" in locked.text
    clock.advance(minutes=14)
    assert login(client, STAFF).status_code == 429
    clock.advance(minutes=2)
    assert login(client, STAFF).status_code == 303


def test_post_without_csrf_token_is_refused(client):
    response = client.post(
        "/login", data={"phone": STAFF, "password": "cunban-demo-2026"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "页面已过期" in response.text
    forged = client.post(
        "/login",
        data={"phone": STAFF, "password": "cunban-demo-2026", FIELD: "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "cb_session" not in client.cookies


def test_htmx_sends_the_token_as_a_header(client):
    login(client, ADMIN)
    token = csrf_of(client.get("/admin/accounts").text)
    response = client.post("/logout", headers={"X-CSRF-Token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_every_state_changing_route_checks_csrf(client):
    login(client, ADMIN)
    unsafe = [
        route
        for route in client.app.routes
        if isinstance(route, Route) and route.methods and "POST" in route.methods
    ]
    assert len(unsafe) >= 5
    # machine routes carry no cookie: a provider's HMAC signature stands for the token
    signed_instead = {"/sms/inbound": 401}
    for route in unsafe:
        path = route.path.replace("{account_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
        response = client.post(path, data={"x": "1"}, follow_redirects=False)
        assert response.status_code == signed_instead.get(route.path, 403), route.path


def test_pages_need_login_and_the_right_role(client):
    assert (
        client.get("/staff/", follow_redirects=False).headers["location"] == "/login?next=/staff/"
    )
    login(client, AGENT_QIANJIANG)
    assert client.get("/staff/").status_code == 403
    assert client.get("/admin/accounts").status_code == 403


def test_next_parameter_only_allows_local_paths(client):
    client.get("/login?next=//evil.example/")
    response = client.post(
        "/login",
        data={
            "phone": STAFF,
            "password": "cunban-demo-2026",
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff/"


def test_password_hash_is_memory_hard(settings, client):
    with sqlite3.connect(settings.database_path) as conn:
        stored = conn.execute("SELECT password_hash FROM accounts LIMIT 1").fetchone()[0]
    assert stored.startswith("$argon2id$")
