"""Public pages kept in memory per content version (issue 17): rendered once, answered without a
query while nothing changed, rendered again after any commit or when the clock's minute turns;
never for a signed-in person; 304 from memory; Vary names everything the key holds."""

from __future__ import annotations

import sqlite3

import pytest

from edge.accounts.demo_people import DEMO_PASSWORD
from edge.kernel.page_cache import PUBLIC_PAGE, VARY
from tests.bulletin_support import post_form
from tests.central_support import central, central_rows, demo_edges, edges  # noqa: F401
from tests.conftest import AGENT_QIANJIANG, STAFF, login
from tests.intake_support import rows, submit

KEPT = [
    "/",
    "/services",
    "/services/MZ-002",
    "/disclosure/",
    "/disclosure/powers",
    "/news",
    "/track",
    "/feedback",
    "/feedback?kind=problem",
    "/market",
    "/market?q=鸡",
    "/login",
    "/me/login",
]
CENTRAL_KEPT = [
    "/disclosure/policies",
    "/disclosure/affairs",
    "/disclosure/elections",
    "/disclosure/assessment",
    "/market",
    "/feedback",
    "/news",
]


def _queries(client, path: str, headers: dict[str, str] | None = None):
    """(response, SQL statements the request ran)."""
    statements: list[str] = []
    db = client.app.state.node.db
    db.add_tracer(statements.append)
    try:
        response = client.get(path, headers=headers or {})
    finally:
        db.remove_tracer(statements.append)
    return response, len(statements)


def _post_news(settings, title: str) -> None:
    """A township post written by another process (the sync loop, an admin's shell)."""
    with sqlite3.connect(settings.database_path) as conn:
        conn.execute(
            "INSERT INTO news (id, origin, scope, scope_code, title, body, published_at) "
            "VALUES (?, 'township', 'township', ?, ?, '修路通知。', '2026-11-23T08:00:00+00:00')",
            (f"N-{title}", settings.township_code, title),
        )


@pytest.mark.parametrize("path", KEPT)
def test_a_public_page_is_rendered_once_and_then_served_without_a_query(client, path):
    first, _ = _queries(client, path)
    again, queries = _queries(client, path)
    assert first.status_code == again.status_code == 200
    assert queries == 0, path
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == PUBLIC_PAGE
    vary = {part.strip().lower() for part in again.headers["vary"].split(",")}
    assert {name.lower() for name in VARY} | {"accept-encoding"} <= vary


def test_a_commit_by_any_process_renders_the_page_again(client, settings):
    before = client.get("/news")
    assert "村道硬化工程开工" not in before.text
    _post_news(settings, "村道硬化工程开工")
    after, queries = _queries(client, "/news")
    assert queries > 0 and "村道硬化工程开工" in after.text
    assert after.headers["etag"] != before.headers["etag"]
    stale = client.get("/news", headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200


def test_the_turn_of_the_minute_renders_the_page_again(client, clock):
    client.get("/services")
    assert _queries(client, "/services")[1] == 0
    clock.advance(minutes=1)
    assert _queries(client, "/services")[1] > 0


def test_304_from_memory(client):
    page = client.get("/services/MZ-002", headers={"Accept-Encoding": "br"})
    again, queries = _queries(
        client, "/services/MZ-002", {"Accept-Encoding": "br", "If-None-Match": page.headers["etag"]}
    )
    assert again.status_code == 304 and queries == 0
    assert again.content == b"" and "content-encoding" not in again.headers
    assert again.headers["etag"] == page.headers["etag"]
    assert again.headers["cache-control"] == PUBLIC_PAGE


def test_head_answers_with_the_get_headers_from_the_same_entry(client):
    """A proxy's or link checker's HEAD: the page's own headers (no visitor cookie, the
    shared-cache policy, the same tag and length), no body, and the entry it rendered serves
    the next GET without a query."""
    statements: list[str] = []
    db = client.app.state.node.db
    db.add_tracer(statements.append)
    try:
        head = client.head("/services")
    finally:
        db.remove_tracer(statements.append)
    assert head.status_code == 200 and head.content == b"" and statements
    assert "set-cookie" not in head.headers
    assert head.headers["cache-control"] == PUBLIC_PAGE
    page, queries = _queries(client, "/services")
    assert queries == 0
    assert head.headers["etag"] == page.headers["etag"]
    assert head.headers["content-length"] == page.headers["content-length"]
    assert client.head("/services").headers["etag"] == page.headers["etag"]


def test_each_variant_is_its_own_entry(client):
    chinese = client.get("/services/MZ-002")
    english = client.get("/services/MZ-002", headers={"Accept-Language": "en"})
    saving = client.get("/services/MZ-002", headers={"Save-Data": "on"})
    fragment = client.get("/services", headers={"HX-Request": "true"})
    assert '<html lang="en"' in english.text and '<html lang="zh' in chinese.text
    assert chinese.headers["etag"] != english.headers["etag"]
    assert "<html" not in fragment.text
    assert client.get("/services/MZ-002", headers={"Save-Data": "on"}).content == saving.content
    assert client.get("/services/MZ-002").content == chinese.content


@pytest.mark.parametrize("phone", [STAFF, AGENT_QIANJIANG])
def test_a_signed_in_person_never_gets_the_kept_page(client, phone):
    client.get("/services")
    login(client, phone)
    page, queries = _queries(client, "/services")
    assert queries > 0 and page.headers["cache-control"] != PUBLIC_PAGE
    assert "退出" in page.text or "logout" in page.text.lower()


def test_pages_with_state_are_not_kept(client, settings):
    chosen = client.get("/services?lang=en")  # sets the language cookie: not kept
    assert "cb_lang" in chosen.headers["set-cookie"]
    assert "public" not in chosen.headers["cache-control"]
    login(client, AGENT_QIANJIANG)
    assert submit(client, "MZ-002").status_code == 303
    code = rows(settings, "SELECT tracking_code FROM applications")[0][0]
    client.cookies.clear()
    client.get(f"/track/{code}")
    track, queries = _queries(client, f"/track/{code}")  # a case page: never kept
    assert track.headers["cache-control"] != PUBLIC_PAGE and queries > 0
    assert client.get("/services/NO-999").status_code == 404
    assert _queries(client, "/services/NO-999")[1] > 0  # only 200 pages are kept


def test_visitors_with_other_cookies_share_one_entry(client):
    """The key is what the page depends on, not the raw Cookie header: unrelated cookies (an
    analytics id, an old visitor cookie, a device cookie) share the kept page."""
    first, _ = _queries(client, "/services", {"Cookie": "tracker=abc; cb_device=1"})
    again, queries = _queries(client, "/services", {"Cookie": "cb_csrf=x.y; other=2"})
    assert queries == 0 and again.content == first.content
    assert _queries(client, "/services", {"Cookie": ""})[1] == 0


def test_the_remembered_village_and_language_are_their_own_entries(client):
    """Never a page in the wrong language, nor another village's home page."""
    from tests.conftest import HUANZHU

    chinese = client.get("/", headers={"Cookie": "x=1"})
    english, queries = _queries(client, "/", {"Cookie": "cb_lang=en; x=2"})
    assert queries > 0 and '<html lang="en"' in english.text and '<html lang="zh' in chinese.text
    same, queries = _queries(client, "/", {"Cookie": "y=3; cb_lang=en", "Accept-Language": "zh"})
    assert queries == 0 and same.content == english.content  # the cookie outranks the header
    by_header, _ = _queries(client, "/", {"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in by_header.text
    village, queries = _queries(client, "/", {"Cookie": f"cb_village={HUANZHU}"})
    assert queries > 0 and village.content != chinese.content


def test_the_language_switch_on_a_kept_page(client):
    chinese = client.get("/track")
    switch = client.get("/track?lang=en", follow_redirects=True)
    assert '<html lang="en"' in switch.text and client.cookies.get("cb_lang") == "en"
    english = client.get("/track")  # the remembered choice, kept as its own entry
    assert '<html lang="en"' in english.text and english.content != chinese.content
    client.cookies.clear()
    assert '<html lang="zh' in client.get("/track").text


@pytest.mark.parametrize("path", ["/login", "/me/login"])
def test_a_kept_sign_in_form_carries_the_one_visitor_cookie(client, path):
    """Served from memory, the form still lets a browser that names no origin sign in: the
    node's one visitor cookie (the same for all) comes with it to a browser that lacks it."""
    first = client.get(path)
    assert "cb_csrf=" in first.headers["set-cookie"]
    held, queries = _queries(client, path)  # the browser sends the cookie back
    assert queries == 0 and "set-cookie" not in held.headers and held.content == first.content
    client.cookies.clear()
    other, queries = _queries(client, path)  # another browser without it
    assert queries == 0 and other.headers["set-cookie"] == first.headers["set-cookie"]
    planted, _ = _queries(client, path, {"Cookie": "cb_csrf=planted"})
    assert "cb_csrf=" in planted.headers["set-cookie"]


def test_an_old_browser_signs_in_from_the_kept_login_form(client, settings):
    client.get("/login")
    client.cookies.clear()
    client.get("/login")  # from memory now
    data = {"phone": STAFF, "password": DEMO_PASSWORD, "next": ""}
    signed = client.post("/login", data=data, follow_redirects=False)  # names no origin
    assert signed.status_code == 303 and "cb_session" in signed.headers["set-cookie"]
    _, queries = _queries(client, "/login")
    assert queries > 0  # signed in: never the kept page


def test_a_signed_in_person_never_gets_a_kept_list(client):
    for path in ("/market", "/feedback", "/track"):
        client.get(path)
    login(client, STAFF)
    for path in ("/market", "/feedback", "/track"):
        page = client.get(path)  # rendered for them: their sign-out, not the kept bytes
        assert page.headers["cache-control"] != PUBLIC_PAGE and "/logout" in page.text, path


def test_central_keeps_its_public_pages_with_the_same_middleware(central):  # noqa: F811
    for path in CENTRAL_KEPT:
        first, _ = _queries(central, path)
        again, queries = _queries(central, path)
        assert first.status_code == again.status_code == 200, path
        assert queries == 0 and again.content == first.content, path
        assert again.headers["cache-control"] == PUBLIC_PAGE, path
        assert "set-cookie" not in again.headers, path


def test_a_write_at_central_shows_on_the_next_visit(central):  # noqa: F811
    from central.demo import ADMIN_PHONE
    from tests.test_central_bulletin import POLICY

    before = central.get("/disclosure/policies")
    assert POLICY["title"] not in before.text
    login(central, ADMIN_PHONE)
    assert post_form(central, "/disclosure/policies/new", POLICY).status_code == 303
    central.cookies.clear()
    after, queries = _queries(central, "/disclosure/policies")
    assert queries > 0 and POLICY["title"] in after.text
    assert after.headers["etag"] != before.headers["etag"]
