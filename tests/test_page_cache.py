"""Public pages kept in memory per content version (issue 17): rendered once, answered without a
query while nothing changed, rendered again after any commit or when the clock's minute turns;
never for a signed-in person; 304 from memory; Vary names everything the key holds."""

from __future__ import annotations

import sqlite3

import pytest

from edge.kernel.page_cache import PUBLIC_PAGE, VARY
from tests.conftest import AGENT_QIANJIANG, STAFF, login

KEPT = ["/", "/services", "/services/MZ-002", "/disclosure/", "/disclosure/powers", "/news"]


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


def test_pages_with_state_are_not_kept(client):
    chosen = client.get("/services?lang=en")  # sets the language cookie: not kept
    assert "cb_lang" in chosen.headers["set-cookie"]
    assert "public" not in chosen.headers["cache-control"]
    client.get("/track")
    track = client.get("/track")  # not a kept page
    assert track.headers["cache-control"] != PUBLIC_PAGE
    assert client.get("/services/NO-999").status_code == 404
    assert _queries(client, "/services/NO-999")[1] > 0  # only 200 pages are kept
