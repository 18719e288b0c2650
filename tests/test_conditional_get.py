"""Conditional GETs (ETag / 304) and Save-Data, through the real app on the real pages."""

from __future__ import annotations

import re

import pytest

from edge.kernel.etag import entity_tag, matches
from edge.kernel.page_cache import PUBLIC_PAGE
from tests.conftest import AGENT_HUANZHU, AGENT_QIANJIANG, HUANZHU, STAFF, login
from tests.intake_support import rows, submit

COMPRESSED = {"Accept-Encoding": "gzip, br"}
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
PAGES = ["/", "/services", "/services/MZ-002"]
CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
# Anything that makes a browser fetch an image on its own.
IMAGE_LOADS = re.compile(
    r"<img\b|<picture\b|<video\b[^>]*\bposter=|<input\b[^>]*type=\"?image|srcset=|"
    r"<link\b[^>]*rel=\"?(?:icon|apple-touch-icon|preload)\"?\s+href=(?![\"']?data:)|"
    r"url\(\s*['\"]?(?!data:)",
    re.IGNORECASE,
)


def _tagged(client, path: str, headers: dict[str, str] | None = None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, (path, response.status_code)
    assert response.headers["etag"].startswith('"'), path  # strong: one per representation
    return response


def _revalidate(client, path: str, tag: str, headers: dict[str, str] | None = None):
    return client.get(path, headers={**(headers or {}), "If-None-Match": tag})


@pytest.mark.parametrize("path", PAGES)
def test_a_page_answers_304_to_its_own_etag(client, path):
    first = _tagged(client, path, COMPRESSED)
    assert first.num_bytes_downloaded > 0
    again = _revalidate(client, path, first.headers["etag"], COMPRESSED)
    assert again.status_code == 304
    assert again.content == b"" and again.num_bytes_downloaded == 0
    assert again.headers["etag"] == first.headers["etag"]
    # kept in memory for everyone, so a proxy and the worker may keep it too (issue 17)
    assert again.headers["cache-control"] == first.headers["cache-control"] == PUBLIC_PAGE
    assert "content-encoding" not in again.headers
    assert "content-length" not in again.headers and "content-type" not in again.headers


def test_the_htmx_fragment_has_its_own_etag_and_its_own_304(client):
    page = _tagged(client, "/services")
    fragment = _tagged(client, "/services", HTMX)
    assert "<html" not in fragment.text and "<html" in page.text
    assert fragment.headers["etag"] != page.headers["etag"]
    assert "HX-Request" in fragment.headers["vary"]
    assert _revalidate(client, "/services", fragment.headers["etag"], HTMX).status_code == 304
    assert _revalidate(client, "/services", fragment.headers["etag"]).status_code == 200
    assert _revalidate(client, "/services", page.headers["etag"], HTMX).status_code == 200
    kept = _revalidate(client, "/services", fragment.headers["etag"], HTMX)
    assert kept.status_code == 304 and "HX-Request" in kept.headers["vary"]
    assert kept.headers["cache-control"] == PUBLIC_PAGE


def test_the_fragment_304_is_empty_even_when_compression_is_offered(client):
    fragment = _tagged(client, "/services", {**HTMX, "Accept-Encoding": "br"})
    assert fragment.headers["content-encoding"] == "br"  # the 200 itself was compressed
    again = _revalidate(client, "/services", fragment.headers["etag"], {**HTMX, **COMPRESSED})
    assert again.status_code == 304
    assert "content-encoding" not in again.headers and again.num_bytes_downloaded == 0
    assert "Accept-Encoding" in again.headers["vary"]


def test_each_encoding_is_its_own_representation_with_its_own_strong_etag(client):
    """Issue 17: one tag per Content-Encoding, so a proxy or the worker that holds the gzip bytes
    never gets a 304 meaning "use them" for a brotli request, and each tag revalidates itself."""
    sent = {
        encoding: _tagged(client, "/services", {"Accept-Encoding": encoding})
        for encoding in ("br", "gzip", "identity")
    }
    tags = {encoding: page.headers["etag"] for encoding, page in sent.items()}
    assert len(set(tags.values())) == 3
    assert sent["br"].headers["content-encoding"] == "br" and tags["br"].endswith('.br"')
    assert sent["gzip"].headers["content-encoding"] == "gzip" and tags["gzip"].endswith('.gzip"')
    assert "content-encoding" not in sent["identity"].headers
    assert tags["br"] == tags["identity"][:-1] + '.br"'  # the same page, so the same hash
    for encoding, tag in tags.items():
        again = _revalidate(client, "/services", tag, {"Accept-Encoding": encoding})
        assert again.status_code == 304 and again.headers["etag"] == tag, encoding
    many = f"{tags['gzip']}, {tags['br']}"  # a proxy holding both asks with both
    both = _revalidate(client, "/services", many, {"Accept-Encoding": "br"})
    assert both.status_code == 304 and both.headers["etag"] == tags["br"]


def test_a_page_rendered_every_time_is_tagged_per_encoding_too(client):
    """The agent's pages (never kept in memory, private for the offline app) get the same
    treatment from ETagMiddleware and the encoding mark."""
    login(client, AGENT_QIANJIANG)
    br = _tagged(client, "/agent/", {"Accept-Encoding": "br"})
    plain = _tagged(client, "/agent/", {"Accept-Encoding": "identity"})
    assert br.headers["etag"] == plain.headers["etag"][:-1] + '.br"'
    again = _revalidate(client, "/agent/", br.headers["etag"], {"Accept-Encoding": "br"})
    assert again.status_code == 304 and again.headers["etag"] == br.headers["etag"]
    other = _revalidate(client, "/agent/", '"not-this-page.br"', {"Accept-Encoding": "br"})
    assert other.status_code == 200


@pytest.mark.parametrize(
    "switch",
    [{"params": {"lang": "en"}}, {"headers": {"Accept-Language": "en-GB,en;q=0.9"}}],
    ids=["query", "accept-language"],
)
def test_english_is_another_etag(client, switch):
    chinese = _tagged(client, "/services/MZ-002")
    english = client.get("/services/MZ-002", **switch)
    assert english.status_code == 200 and '<html lang="en"' in english.text
    assert english.headers["etag"] != chinese.headers["etag"]
    params = switch.get("params", {})
    headers = {**switch.get("headers", {}), "If-None-Match": chinese.headers["etag"]}
    assert client.get("/services/MZ-002", params=params, headers=headers).status_code == 200


def test_the_remembered_language_cookie_changes_the_etag(client):
    chinese = _tagged(client, "/services")
    client.get("/services", params={"lang": "en"})  # sets cb_lang=en
    english = _revalidate(client, "/services", chinese.headers["etag"])
    assert english.status_code == 200 and '<html lang="en"' in english.text
    assert _revalidate(client, "/services", english.headers["etag"]).status_code == 304


def test_a_changed_page_is_sent_again_not_304(client):
    everything = _tagged(client, "/services")
    found = _revalidate(client, "/services?q=低保", everything.headers["etag"])
    assert found.status_code == 200 and found.headers["etag"] != everything.headers["etag"]
    home = _tagged(client, "/")
    chosen = client.post("/village", data={"village": HUANZHU})
    assert chosen.status_code == 200  # followed to /services
    mine = _revalidate(client, "/", home.headers["etag"])
    assert mine.status_code == 200 and "<h1>还珠村</h1>" in mine.text


def test_head_and_star_and_lists(client):
    page = _tagged(client, "/services")
    tag = page.headers["etag"]
    head = client.head("/services")
    assert head.headers["etag"] == tag
    assert client.head("/services", headers={"If-None-Match": tag}).status_code == 304
    listed = f'W/"someoneelse", {tag}'
    assert _revalidate(client, "/services", listed).status_code == 304
    assert _revalidate(client, "/services", tag.removeprefix("W/")).status_code == 304
    assert _revalidate(client, "/services", "*").status_code == 304
    assert _revalidate(client, "/services", 'W/"someoneelse"').status_code == 200


def test_json_is_tagged_too(client):
    keys = _tagged(client, "/seals/keys")
    assert keys.headers["content-type"] == "application/json"
    assert _revalidate(client, "/seals/keys", keys.headers["etag"]).status_code == 304


def test_errors_redirects_and_posts_are_not_tagged(client):
    missing = client.get("/services/NO-999")
    assert missing.status_code == 404 and "etag" not in missing.headers
    assert _revalidate(client, "/services/NO-999", "*").status_code == 404
    typo = client.get("/track?code=ABCD", headers={"If-None-Match": "*"})
    assert typo.status_code == 400 and "etag" not in typo.headers
    redirect = client.get("/agent/", headers={"If-None-Match": "*"}, follow_redirects=False)
    assert redirect.status_code == 303 and "etag" not in redirect.headers
    client.get("/")
    posted = client.post(
        "/village",
        data={"village": "nowhere"},
        headers={"If-None-Match": "*"},
    )
    assert posted.status_code == 400 and "etag" not in posted.headers


def test_no_store_responses_get_no_etag(client, settings):
    health = client.get("/healthz", headers={"If-None-Match": "*"})
    assert health.status_code == 200 and "no-store" in health.headers["cache-control"]
    assert "etag" not in health.headers
    login(client, AGENT_QIANJIANG)
    application_id = submit(client, "MZ-002").headers["location"].split("/")[3]
    attachment = rows(
        settings, "SELECT id FROM attachments WHERE application_id = ?", application_id
    )[0]["id"]
    login(client, STAFF)
    for path in (f"/staff/attachments/{attachment}", f"/staff/attachments/{attachment}/thumb"):
        photo = client.get(path, headers={"If-None-Match": "*"})
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert "no-store" in photo.headers["cache-control"]
        assert "etag" not in photo.headers


def test_static_files_keep_their_own_immutable_caching(client):
    script = re.search(r'<script src="([^"]+)"', client.get("/").text).group(1)
    response = client.get(script)
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "no-cache" not in response.headers["cache-control"]


# Staff, officer and admin pages are never stored at all (no-store, no ETag: issue 12,
# finding 2, tests/test_shared_devices.py); the agent's pages, which the agent app keeps
# offline, are private and revalidated, never 304 across users.
def test_agent_pages_are_private_and_never_304_across_users(client):
    login(client, AGENT_QIANJIANG)
    mine = _tagged(client, "/agent/")
    assert mine.headers["cache-control"] == "private, no-cache"
    assert _revalidate(client, "/agent/", mine.headers["etag"]).status_code == 304
    services = _tagged(client, "/services")  # a public page, but made for a signed-in person
    assert services.headers["cache-control"] == "private, no-cache"
    login(client, AGENT_HUANZHU)
    theirs = _revalidate(client, "/agent/", mine.headers["etag"])
    assert theirs.status_code == 200 and theirs.content != mine.content
    assert theirs.headers["etag"] != mine.headers["etag"]
    assert _revalidate(client, "/agent/", theirs.headers["etag"]).status_code == 304
    client.cookies.clear()
    anonymous = client.get("/agent/", headers={"If-None-Match": "*"}, follow_redirects=False)
    assert anonymous.status_code == 303 and "etag" not in anonymous.headers


def test_a_new_session_of_the_same_user_is_not_served_the_old_page(client):
    login(client, AGENT_QIANJIANG)
    first = _tagged(client, "/agent/")
    login(client, AGENT_QIANJIANG)  # a new session: a new CSRF token in the page
    second = _revalidate(client, "/agent/", first.headers["etag"])
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]


def test_matching_and_tags_by_hand():
    scope = {"type": "http", "headers": [(b"hx-request", b"true")], "locale": "zh_Hans"}
    tag = entity_tag(b"<p>x</p>", scope, "HX-Request")
    assert tag != entity_tag(b"<p>x</p>", {**scope, "headers": []}, "HX-Request")
    assert tag != entity_tag(b"<p>x</p>", {**scope, "locale": "en"}, "HX-Request")
    assert tag != entity_tag(b"<p>y</p>", scope, "HX-Request")
    assert tag == entity_tag(b"<p>x</p>", scope, "hx-request, *")
    assert matches(f'"a", {tag}', tag) and matches("*", tag)
    assert not matches('W/"a"', tag) and not matches("", tag)


# Save-Data (DESIGN §5): resident pages load no image at all, so Save-Data changes nothing.


def _resident_pages(client, settings) -> list[str]:
    login(client, AGENT_QIANJIANG)
    application_id = submit(client, "CW-001").headers["location"].split("/")[3]
    code = rows(settings, "SELECT tracking_code FROM applications")[0][0]
    seal = rows(settings, "SELECT id FROM seals WHERE application_id = ?", application_id)
    client.cookies.clear()
    return [
        "/",
        "/services",
        "/services?q=低保",
        "/services?lang=en",
        "/services/MZ-002",
        "/services/NY-001",
        "/services/CW-001",
        "/services/MZ-002/notice",
        "/track",
        f"/track/{code}",
        f"/verify/{seal[0]['id']}",
        "/login",
        "/services/NO-999",
        "/nowhere",
    ]


def test_the_image_detector_catches_images():
    for html in (
        '<img src="/a.jpg">',
        '<source srcset="/a.webp">',
        '<div style="background:url(/a.png)">',
        "<style>b{background-image:url('/a.png')}</style>",
        '<link rel="icon" href="/favicon.png">',
    ):
        assert IMAGE_LOADS.search(html), html
    assert not IMAGE_LOADS.search('<div style="background:url(data:image/gif;base64,R0)">')
    assert not IMAGE_LOADS.search('<link rel="icon" href="data:,">')  # downloads nothing


def test_save_data_resident_pages_load_no_image(client, settings):
    pages = _resident_pages(client, settings)
    stylesheets = set()
    for path in pages:
        saving = client.get(path, headers={"Save-Data": "on"})
        assert saving.status_code in (200, 404), path
        assert not IMAGE_LOADS.search(saving.text), (path, IMAGE_LOADS.search(saving.text))
        assert not CSS_LINK.findall(saving.text), path  # the stylesheet is inline
        stylesheets.update(re.findall(r"<style>(.*?)</style>", saving.text, re.DOTALL))
        normal = client.get(path)
        if normal.content != saving.content:
            assert "save-data" in saving.headers.get("vary", "").lower(), path
    assert stylesheets
    for css in stylesheets:
        assert not IMAGE_LOADS.search(css), css
