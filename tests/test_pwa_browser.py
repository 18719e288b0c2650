"""The agent app in real Chromium: installable (manifest, icons, service worker) and usable
offline; resident pages' first visits within their request, byte and origin budgets.

Debian's chromium is installed by the tests when missing (as root, with apt-get); Playwright
(PyPI) drives it. The edge node is the real program (`python -m edge serve`) on loopback.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Request,
    Route,
)

from edge.accounts.demo_people import DEMO_PASSWORD
from edge.pwa.routes import BACKGROUND_COLOR, SHELL_ASSETS, THEME_COLOR
from tests.browser_support import EdgeNode, controlled_by_the_worker, sign_in
from tests.cluster import ROOT, wait_for
from tests.conftest import AGENT_QIANJIANG, STAFF, login

RESIDENT_PAGES = ["/", "/services", "/services/MZ-002", "/track"]
FIRST_VISIT_REQUESTS = 3
FIRST_VISIT_BYTES = 50_000  # on the wire: headers and (compressed) bodies
ICON_BYTES = 10_000
REQUIRED_MEMBERS = {
    "name",
    "short_name",
    "start_url",
    "scope",
    "display",
    "icons",
    "theme_color",
    "background_color",
    "lang",
}
OFFLINE_TEXT = "现在没有网络"
MANIFEST_LINK = re.compile(r'<link rel="manifest" href="([^"]+)">')

CACHED_URLS = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    found[name] = (await cache.keys()).map((request) => new URL(request.url).pathname);
  }
  return found;
}"""
FETCH = """async (url) => {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.clone().arrayBuffer());
  const result = {status: response.status, type: response.headers.get("Content-Type"),
                  length: bytes.length, head: Array.from(bytes.slice(0, 8))};
  if (result.type.startsWith("image/")) {
    const bitmap = await createImageBitmap(await response.blob());
    result.size = `${bitmap.width}x${bitmap.height}`;
  } else {
    result.text = new TextDecoder().decode(bytes);
  }
  return result;
}"""
PNG_SIGNATURE = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]


# --- the installable, offline-capable agent app (real Chromium) ---------------------------


def _check_manifest(page: Page) -> None:
    href = page.get_attribute("link[rel=manifest]", "href")
    assert href and href.startswith("/manifest.webmanifest")
    fetched = page.evaluate(FETCH, href)
    assert (fetched["status"], fetched["type"]) == (200, "application/manifest+json")
    manifest = json.loads(fetched["text"])
    assert manifest.keys() >= REQUIRED_MEMBERS
    assert (manifest["name"], manifest["short_name"], manifest["lang"]) == (
        "村办代办",
        "村办",
        "zh-Hans",
    )
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/agent/",
        "/",
        "standalone",
    )
    assert page.get_attribute("meta[name=theme-color]", "content") == manifest["theme_color"]
    purposes = set()
    for icon in manifest["icons"]:
        image = page.evaluate(FETCH, icon["src"])
        assert (image["status"], image["type"], image["head"]) == (200, "image/png", PNG_SIGNATURE)
        assert image["size"] == icon["sizes"], icon
        assert image["length"] <= ICON_BYTES, icon
        purposes.add((icon["sizes"], icon["purpose"]))
    assert purposes >= {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


def _installability_errors(context: BrowserContext, page: Page) -> list[dict[str, Any]]:
    """What Chromium itself says stands between this page and being installed."""
    cdp = context.new_cdp_session(page)
    try:
        manifest = cdp.send("Page.getAppManifest")
        assert not manifest.get("errors"), manifest["errors"]
        return cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    finally:
        cdp.detach()


def _icon_urls(page: Page) -> list[str]:
    manifest = page.evaluate(FETCH, page.get_attribute("link[rel=manifest]", "href"))
    return [icon["src"] for icon in json.loads(manifest["text"])["icons"]]


def _cached(page: Page) -> dict[str, list[str]]:
    return page.evaluate(CACHED_URLS)


def _shell(edge: EdgeNode) -> dict[str, Any]:
    """The SHELL object /sw.js starts with."""
    with urllib.request.urlopen(f"{edge.url}/sw.js", timeout=5) as response:
        source = response.read().decode()
    found = re.match(r"const SHELL = (\{.*?\});\n", source, re.S)
    assert found, source[:200]
    return json.loads(found[1])


def _h1(page: Page) -> str:
    return page.locator("h1").inner_text()


def test_agent_app_is_installable_and_works_offline(agent_app: BrowserContext, edge: EdgeNode):
    page = agent_app.pages[0] if agent_app.pages else agent_app.new_page()
    page.goto("/login")
    # A previous release's cache, and one that is not ours: activation drops only the first.
    page.evaluate("Promise.all([caches.open('cunban-shell-0ld'), caches.open('other-app')])")
    sign_in(page)
    assert controlled_by_the_worker(page) == f"{edge.url}/sw.js"
    shell = _shell(edge)
    statics, pages = f"cunban-shell-{shell['version']}", f"cunban-pages-{shell['version']}"
    forms = f"cunban-forms-{shell['version']}"
    precached = {*shell["assets"], "/offline"}
    # (the cache of other visited pages is made when the first such page is kept)
    assert set(_cached(page)) == {statics, forms, "other-app"}
    # Chromium fetches a manifest icon itself, and hashed files are kept once fetched.
    assert precached <= set(_cached(page)[statics]) <= precached | set(_icon_urls(page))
    # the start pages and the form of every catalog item (42), ready for offline intake
    assert {"/agent/", "/agent/outbox", "/agent/apply", "/services"} <= set(shell["pages"])
    assert len([url for url in shell["pages"] if url.startswith("/agent/apply/")]) == 42
    assert set(_cached(page)[forms]) == set(shell["pages"])

    _check_manifest(page)
    assert _installability_errors(agent_app, page) == []

    page.goto("/healthz")  # answered with Cache-Control: no-store, so never kept
    filtered = page.goto("/agent/apply?q=%E8%80%81%E5%B9%B4")  # 老年: two items, not MZ-002
    assert filtered is not None and filtered.status == 200
    assert page.locator("a[href='/agent/apply/MZ-002']").count() == 0
    page.goto("/services/MZ-002")
    wait_for(lambda: "/services/MZ-002" in _cached(page)[pages], 10, "the guide kept")
    assert "/healthz" not in _cached(page)[pages]

    agent_app.set_offline(True)
    try:
        home = page.goto("/agent/")
        assert home is not None and home.from_service_worker and home.status == 200
        assert _h1(page) == "代办员工作台"
        page.click("nav a[href='/services']")  # htmx-boosted: a fetch, not a navigation
        page.wait_for_url("**/services")
        assert _h1(page) == "办事指南"
        page.goto("/agent/")
        page.click("a[href='/agent/apply']")  # boosted, never visited, but kept from the start
        page.wait_for_url("**/agent/apply")
        assert _h1(page) == "选择办理事项"  # the whole list: the filtered view was not kept
        assert page.locator("a[href^='/agent/apply/']").count() == 42
        page.click("a[href='/agent/apply/MZ-002']")
        page.wait_for_url("**/agent/apply/MZ-002")
        assert page.locator("form[data-intake] input[name='id_number']").count() == 1
        guide = page.goto("/services/MZ-002")
        assert guide is not None and guide.from_service_worker and _h1(page) != OFFLINE_TEXT
        for never_kept in ("/services/CL-001", "/healthz"):
            offline = page.goto(never_kept)
            assert offline is not None and offline.status == 503 and page.url.endswith(never_kept)
            assert _h1(page) == OFFLINE_TEXT, never_kept
            assert "联网后自动发送" in page.locator("main").inner_text()
    finally:
        agent_app.set_offline(False)

    online = page.goto("/services/CL-001")
    assert online is not None and online.status == 200 and _h1(page) != OFFLINE_TEXT
    page.goto("/agent/")
    page.click("form[action='/logout'] button")  # signing out forgets the kept pages
    page.wait_for_url(re.compile(r"/(login)?$"))
    wait_for(lambda: not _cached(page).get(forms), 10, "forms forgotten")
    assert "/agent/" not in _cached(page).get(pages, [])
    assert precached <= set(_cached(page)[statics])
    sign_in(page)  # signing in again: the worker keeps the forms again
    wait_for(lambda: set(_cached(page).get(forms, [])) == set(shell["pages"]), 20, "forms kept")


# --- resident pages: first visit in real Chromium -----------------------------------------


def _first_visit(browser: Browser, edge: EdgeNode, path: str) -> tuple[list[str], list[int]]:
    """(URLs the page requested, bytes on the wire per response) of loading `path` until the
    network is idle, with an empty and disabled cache and no service worker."""
    context = browser.new_context(locale="zh-CN", service_workers="block")
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        requested: list[str] = []
        finished: list[Request] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("requestfinished", lambda request: finished.append(request))
        response = page.goto(edge.url + path, wait_until="networkidle")
        assert response is not None and response.status == 200, path
        sizes = [request.sizes() for request in finished]
        return requested, [size["responseHeadersSize"] + size["responseBodySize"] for size in sizes]
    finally:
        context.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize("path", RESIDENT_PAGES)
def test_resident_first_visit_in_chromium(browser: Browser, edge: EdgeNode, path: str):
    logged_before = len(edge.requests_logged())
    requested, wire = _first_visit(browser, edge, path)
    time.sleep(0.3)  # let the access log catch up with requests the page does not see
    served = edge.requests_logged()[logged_before:]
    print(f"\nfirst visit {path}: {len(served)} requests, {sum(wire)} B on the wire {wire}")
    assert len(served) <= FIRST_VISIT_REQUESTS, served  # favicon.ico would show here
    assert len(requested) == len(served), (requested, served)
    assert sum(wire) <= FIRST_VISIT_BYTES, wire
    assert {_origin(url) for url in requested} == {edge.url}  # no third-party origin
    assert not any("manifest" in url or "/js/pwa." in url for url in requested)


# --- the same contract over plain HTTP -----------------------------------------------------
# (Through the real node: the app's TestClient cannot run beside Playwright's event loop.)


@pytest.fixture
def http(edge: EdgeNode) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=edge.url) as client:
        yield client


def test_manifest_follows_the_language(http: httpx2.Client):
    chinese = http.get("/manifest.webmanifest")
    assert chinese.headers["content-type"] == "application/manifest+json"
    assert chinese.json()["lang"] == "zh-Hans" and chinese.json()["name"] == "村办代办"
    english = http.get("/manifest.webmanifest?lang=en").json()
    assert english["lang"] == "en"
    again = http.get(
        "/manifest.webmanifest?lang=en", headers={"If-None-Match": chinese.headers["etag"]}
    )
    assert again.status_code == 200  # another language is another representation


def test_manifest_colours_and_icons_match_the_files(http: httpx2.Client):
    css = (ROOT / "static/css/site.css").read_text(encoding="utf-8")
    assert f"background:{THEME_COLOR}" in css and f"background:{BACKGROUND_COLOR}" in css
    for icon in http.get("/manifest.webmanifest").json()["icons"]:
        response = http.get(icon["src"])
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert len(response.content) <= ICON_BYTES, icon["src"]
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG" and "x".join(map(str, image.size)) == icon["sizes"]


def test_service_worker_is_served_at_root_scope(http: httpx2.Client):
    worker = http.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    shell = json.loads(re.match(r"const SHELL = (\{.*?\});\n", worker.text, re.S)[1])
    assert len(shell["assets"]) == len(SHELL_ASSETS)
    for url in shell["assets"]:
        assert http.get(url).status_code == 200, url
    assert http.get(shell["offline"]).status_code == 200
    unchanged = http.get("/sw.js", headers={"If-None-Match": worker.headers["etag"]})
    assert unchanged.status_code == 304 and not unchanged.content


def test_only_agent_pages_offer_the_app(http: httpx2.Client):
    for path in RESIDENT_PAGES:
        page = http.get(path).text
        assert "manifest" not in page and "/js/pwa." not in page, path
    login(http, STAFF)
    assert "manifest" not in http.get("/staff/").text
    login(http, AGENT_QIANJIANG)
    page = http.get("/agent/").text
    assert MANIFEST_LINK.search(page)[1] == "/manifest.webmanifest?lang=zh_Hans"
    assert f'<meta name="theme-color" content="{THEME_COLOR}">' in page
    assert re.search(
        r'<script src="/static/js/pwa\.[0-9a-f]{12}\.js" type="after-load"></script>', page
    )


def test_offline_page_says_what_still_works(http: httpx2.Client):
    page = http.get("/offline")
    assert page.status_code == 200
    assert OFFLINE_TEXT in page.text and "联网后自动发送" in page.text
    assert '<html lang="en">' in http.get("/offline?lang=en").text


def test_staff_pages_on_the_agents_phone_are_never_kept(agent_app: BrowserContext, edge: EdgeNode):
    """Issue 12, finding 2: township staff sign in on a phone the agent app's worker controls;
    what they open is never stored, so the next person, offline, cannot read it."""
    with sqlite3.connect(edge.database) as conn:
        application_id = conn.execute("SELECT id FROM applications LIMIT 1").fetchone()[0]
    page = agent_app.pages[0] if agent_app.pages else agent_app.new_page()
    sign_in(page)
    assert controlled_by_the_worker(page) == f"{edge.url}/sw.js"
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/(login)?$"))
    page.goto("/login")
    page.fill("#phone", STAFF)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url("**/staff/")
    staff_pages = [f"/staff/applications/{application_id}", "/staff/", "/services/MZ-002"]
    for path in staff_pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert response.headers["cache-control"] == "no-store", path
    time.sleep(2)  # what the worker would keep, it keeps within this
    kept = {url for urls in _cached(page).values() for url in urls}
    assert not kept & set(staff_pages), kept & set(staff_pages)
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/(login)?$"))
    agent_app.set_offline(True)
    try:
        for path in staff_pages[:2]:
            offline = page.goto(path)
            assert offline is not None and offline.status == 503, path
            assert _h1(page) == OFFLINE_TEXT, path
    finally:
        agent_app.set_offline(False)


def test_the_inline_stylesheet_paints_under_the_csp(browser: Browser, edge: EdgeNode):
    """Issue 17: the page's own <style> (allowed by its hash) styles the first paint, with no
    stylesheet request and no CSP refusal in the console."""
    context = browser.new_context()
    try:
        page = context.new_page()
        console: list[str] = []
        requested: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.on("request", lambda request: requested.append(request.url))
        page.goto(edge.url + "/services", wait_until="load")
        bar = page.evaluate("getComputedStyle(document.querySelector('.bar')).backgroundColor")
        assert bar == "rgb(179, 38, 30)"  # THEME_COLOR, from the inline stylesheet
        assert not [text for text in console if "Content Security Policy" in text], console
        assert not [url for url in requested if url.endswith(".css")], requested
    finally:
        context.close()


SCRIPTS_BEFORE_LOAD = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return performance.getEntriesByType("resource")
    .filter((entry) => entry.startTime < nav.loadEventStart)
    .map((entry) => entry.name);
}"""


def test_scripts_come_after_load_and_htmx_still_runs(browser: Browser, edge: EdgeNode):
    """Issue 17: the page's one inline loader (allowed by its hash) adds htmx after `load`:
    on every resident page the HTML is the only request before `load` (so before the first
    paint), then htmx processes the page (a boosted link is fetched with HX-Request) and
    nothing is refused by the CSP."""
    context = browser.new_context()
    try:
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        for path in RESIDENT_PAGES:
            page.goto(edge.url + path, wait_until="load")
            assert page.evaluate(SCRIPTS_BEFORE_LOAD) == [], path
        page.goto(edge.url + "/services", wait_until="load")
        page.wait_for_function("window.htmx !== undefined")
        page.wait_for_function("document.querySelector('a[href=\"/track\"]')._htmx !== undefined")
        with page.expect_request(lambda request: request.url.endswith("/track")) as boosted:
            page.click('header a[href="/track"]')
        assert boosted.value.headers.get("hx-request") == "true"
        assert not [text for text in console if "Content Security Policy" in text], console
    finally:
        context.close()


def test_a_form_sent_before_its_scripts_ran_waits_for_them(browser: Browser, edge: EdgeNode):
    """A form submitted after `load` but before the scripts the loader added have run (an agent's
    quick tap: the outbox must see it) is held, then sent once they have run, not lost."""
    context = browser.new_context()
    held: list[Route] = []
    try:
        page = context.new_page()
        page.route("**/static/js/*.js", lambda route: held.append(route))
        page.goto(edge.url + "/track", wait_until="load")
        page.fill("#code", "ABC123")
        for _ in range(200):  # the loader asks for its scripts after load; they are held
            if held:
                break
            page.wait_for_timeout(50)
        assert held
        sent: list[str] = []
        page.on("request", lambda request: sent.append(request.url))
        page.click("#code ~ button")
        page.wait_for_timeout(500)
        assert not [url for url in sent if "code=ABC123" in url]  # held, not sent nor lost
        assert urlsplit(page.url).path == "/track"
        with page.expect_navigation(url=lambda url: "code=ABC123" in url):
            while held:
                held.pop().continue_()
                page.wait_for_timeout(50)
    finally:
        context.close()
