"""DESIGN.md §5 budgets, measured on the real pages with the demo data."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from pathlib import Path

import pytest

from tests.conftest import ADMIN, AGENT_QIANJIANG, STAFF, login

FIRST_ROUND_TRIP = 13_032  # bytes: HTML + CSS, gzip, per first visit
FRAGMENT_BUDGET = 5_000
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"')
ROOT = Path(__file__).resolve().parent.parent
AGENT_SCRIPTS_BUDGET = 16_000  # gzip: the agent app's own scripts and its service worker
CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
SCRIPT_ELEMENT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
AFTER_LOAD = re.compile(r' src="/static/js/[a-z-]+\.[0-9a-f]{12}\.js" type="after-load"')
JSON_DATA = 'type="application/json"'
INLINE_LOADER = (ROOT / "static/js/after-load.js").read_text(encoding="utf-8").strip()

PUBLIC_PAGES = [
    "/",
    "/services",
    "/services?lang=en",
    "/services?mode=direct",
    "/services/MZ-002",
    "/services/NY-001?lang=en",
    "/services/MZ-002/notice",
    "/services/NO-999",
    "/login",
    "/feedback",
    "/feedback/new",
    "/feedback/new?topic=election&ref=E-2026-01",
    "/feedback/track",
    "/disclosure/ratings",
    "/disclosure/assessment",
    "/disclosure/assessment?of=quarter",
    "/disclosure/policies",
    "/disclosure/policies?archive=1",
    "/disclosure/affairs",
    "/disclosure/elections",
    "/disclosure/elections?archive=1",
    "/news",
    "/disclosure/",
    "/disclosure/powers",
    "/disclosure/powers?lang=en",
    "/disclosure/powers/JC-01",
    "/disclosure/powers/ZJ-01?lang=en",
    "/disclosure/powers/JC-01/sheet",
    "/disclosure/results",
]
SUPERVISOR = "13807710003"
SIGNED_IN_PAGES = [
    (AGENT_QIANJIANG, "/agent/"),
    (SUPERVISOR, "/supervision/"),
    (STAFF, "/staff/"),
    (ADMIN, "/admin/accounts"),
    (ADMIN, "/admin/accounts/new"),
    (STAFF, "/staff/affairs"),
    (STAFF, "/staff/affairs/new"),
    (STAFF, "/staff/policies/new"),
    (STAFF, "/staff/elections/new"),
    (STAFF, "/staff/news/new"),
    (AGENT_QIANJIANG, "/agent/affairs"),
    (AGENT_QIANJIANG, "/agent/affairs/new"),
    (AGENT_QIANJIANG, "/agent/news/new"),
]


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _first_visit_bytes(client, path: str) -> int:
    """The page's gzip size: its stylesheet is inline, so nothing else is fetched before the
    first paint (issue 17)."""
    page = client.get(path)
    assert not CSS_LINK.findall(page.text), "no stylesheet request before the first paint"
    assert "<style>" in page.text and "</style>" in page.text
    return _gz(page.content)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_fits_the_first_round_trip(client, path):
    assert _first_visit_bytes(client, path) <= FIRST_ROUND_TRIP


@pytest.mark.parametrize(("phone", "path"), SIGNED_IN_PAGES)
def test_staff_page_fits_the_first_round_trip(client, phone, path):
    login(client, phone)
    assert _first_visit_bytes(client, path) <= FIRST_ROUND_TRIP


def test_search_fragment_is_small(client):
    fragment = client.get("/services", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert _gz(fragment.content) <= FRAGMENT_BUDGET


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@pytest.mark.parametrize(
    ("phone", "path"),
    [
        (None, "/services"),
        (None, "/services/CW-001/notice"),
        (None, "/disclosure/powers/JC-01/sheet"),
        (AGENT_QIANJIANG, "/agent/"),
        (AGENT_QIANJIANG, "/agent/apply/CW-004"),
        (AGENT_QIANJIANG, "/agent/outbox"),
        (STAFF, "/staff/"),
    ],
)
def test_no_script_is_fetched_before_load(client, phone, path):
    """Issue 17: no script delays `load` by a request of its own. Every script is local and
    hashed, named as <script src type="after-load"> (not fetched by the browser); the page's
    one inline script is the loader (static/js/after-load.js) that adds them after `load`,
    and the CSP allows exactly it by its hash; other inline scripts are JSON data only."""
    if phone:
        login(client, phone)
    response = client.get(path)
    assert response.status_code == 200
    elements = SCRIPT_ELEMENT.findall(response.text)
    inline = [body for attrs, body in elements if "src=" not in attrs and JSON_DATA not in attrs]
    assert inline == [INLINE_LOADER]
    fetched = [(attrs, body) for attrs, body in elements if "src=" in attrs]
    assert fetched, "every page has its script bundle (htmx)"
    for attrs, body in fetched:
        assert AFTER_LOAD.fullmatch(attrs) and body == "", attrs
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"].split() == ["'self'", _csp_hash(INLINE_LOADER)]


def test_static_files_are_hashed_and_immutable(client):
    page = client.get("/").text
    for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', page):
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url), url
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/css/site.css").status_code == 404
    assert client.get("/static/css/site.000000000000.css").status_code == 404


def test_responses_are_compressed(client):
    brotli = client.get("/services", headers={"Accept-Encoding": "br"})
    assert brotli.headers["content-encoding"] == "br"
    gzipped = client.get("/services", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"


def test_agent_app_scripts_stay_small(client):
    """No framework, no bundler: the app's own scripts and worker, as served, in 16 KB gzip."""
    login(client, AGENT_QIANJIANG)
    page = client.get("/agent/apply/CW-004").text
    # js/site.js bundles vendored htmx with our read-aloud script: count only ours from it
    scripts = [url for url in SCRIPT_SRC.findall(page) if "/site." not in url]
    assert {re.sub(r"\.[0-9a-f]{12}", "", url) for url in scripts} >= {
        "/static/js/photo.js",
        "/static/js/outbox.js",
        "/static/js/pwa.js",
        "/static/js/signature.js",
        "/static/js/intake.js",
    }
    served = [client.get(url).content for url in scripts] + [client.get("/sw.js").content]
    ours_in_bundle = (ROOT / "static/js/read-aloud.js").read_bytes()
    assert sum(_gz(body) for body in [*served, ours_in_bundle]) <= AGENT_SCRIPTS_BUDGET


def test_htmx_is_vendored_and_pinned():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    script = (root / "static/js/htmx.min.js").read_text(encoding="utf-8")
    assert "4.0.1" in script


def _measure(client, path: str) -> tuple[int, int]:
    """(HTML + CSS gzip bytes, SQL statements run) of one page view."""
    statements: list[str] = []

    def count(sql: str) -> None:
        if sql.lstrip().split(" ", 1)[0].upper() in (
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "WITH",
        ):
            statements.append(sql)

    db = client.app.state.node.db
    db.add_tracer(count)
    try:
        page = client.get(path)
    finally:
        db.remove_tracer(count)
    assert page.status_code == 200, path
    assert not CSS_LINK.findall(page.text) and "<style>" in page.text  # CSS inline
    return _gz(page.content), len(statements)


def test_application_pages_fit_the_budgets(client, settings):
    from tests.intake_support import rows, submit

    login(client, AGENT_QIANJIANG)
    receipt = submit(client, "NY-001").headers["location"]
    application_id = receipt.split("/")[3]
    code = rows(settings, "SELECT tracking_code FROM applications")[0][0]
    pages = {
        "intake form": (AGENT_QIANJIANG, "/agent/apply/NY-001"),
        "agent home": (AGENT_QIANJIANG, "/agent/"),
        "receipt": (AGENT_QIANJIANG, receipt),
        "staff queue": (STAFF, "/staff/"),
        "staff file": (STAFF, f"/staff/applications/{application_id}"),
        "tracking": (None, f"/track/{code}"),
    }
    report = {}
    for name, (phone, path) in pages.items():
        if phone:
            login(client, phone)
        else:
            client.cookies.clear()
        size, queries = _measure(client, path)
        report[name] = (size, queries)
        assert size <= FIRST_ROUND_TRIP, (name, size)
        assert queries <= 12, (name, queries)
    print("\npage budgets (gzip bytes, SQL statements):", report)


def test_every_page_pays_one_request_for_htmx_and_read_aloud(client):
    page = client.get("/services/MZ-002").text
    scripts = SCRIPT_SRC.findall(page)
    assert len(scripts) == 1 and re.fullmatch(r"/static/js/site\.[0-9a-f]{12}\.js", scripts[0])
    bundle = client.get(scripts[0])
    assert bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert bundle.headers["content-type"].startswith("text/javascript")
    htmx = (ROOT / "static/js/htmx.min.js").read_bytes().rstrip()
    read_aloud = (ROOT / "static/js/read-aloud.js").read_bytes().rstrip()
    assert bundle.content.startswith(htmx) and read_aloud in bundle.content


def test_rating_pages_fit_the_budgets(client, settings):
    import re as regex

    from tests.intake_support import rows, submit

    login(client, AGENT_QIANJIANG)
    for _ in range(3):
        submit(client, "CW-001")  # approved at intake: each invites a rating
    bodies = rows(settings, "SELECT body FROM sms_outbox WHERE template = 'approved'")
    tokens = [regex.search(r"/rate/([0-9a-z]{10})", b["body"]).group(1) for b in bodies]
    client.cookies.clear()
    for token, level in zip(tokens, (1, 4, 5), strict=True):
        page = client.get(f"/rate/{token}")
        assert page.status_code == 200
        client.post(f"/rate/{token}", data={"level": str(level)})
    case = rows(settings, "SELECT id FROM follow_ups")[0]["id"]
    pages = {
        "rate": (None, f"/rate/{tokens[0]}"),
        "published ratings": (None, "/disclosure/ratings"),
        "follow-ups": (STAFF, "/staff/follow-ups"),
        "follow-up": (STAFF, f"/staff/follow-ups/{case}"),
    }
    report = {}
    for name, (phone, path) in pages.items():
        if phone:
            login(client, phone)
        else:
            client.cookies.clear()
        size, queries = _measure(client, path)
        report[name] = (size, queries)
        assert size <= FIRST_ROUND_TRIP, (name, size)
        assert queries <= 12, (name, queries)
    print("\nrating page budgets (gzip bytes, SQL statements):", report)


def test_bulletin_pages_with_demo_content_fit_the_budgets(client, settings):
    """The 阳光红页 pages and the village home, each with a month of demo content: within the
    first round trip and a handful of queries, however much content there is."""
    from datetime import UTC, datetime

    from tests.bulletin_support import seed_demo
    from tests.intake_support import rows

    seed_demo(settings, datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    village = "450521100202"
    finance = rows(settings, "SELECT id FROM affairs WHERE kind = 'finance' LIMIT 1")[0][0]
    policy = rows(settings, "SELECT id FROM policies LIMIT 1")[0][0]
    sheet = rows(settings, "SELECT id FROM affairs WHERE status = 'published' LIMIT 1")[0][0]
    election = rows(settings, "SELECT id FROM elections LIMIT 1")[0][0]
    post = rows(settings, "SELECT id FROM news WHERE photo_sha256 IS NOT NULL")[0][0]
    client.get("/")
    client.post("/village", data={"village": village})
    pages = {
        "home": "/",
        "affairs": f"/disclosure/affairs?village={village}",
        "finance table": f"/disclosure/affairs/{finance}",
        "policies": "/disclosure/policies",
        "policy": f"/disclosure/policies/{policy}",
        "elections": "/disclosure/elections",
        "election": f"/disclosure/elections/{election}",
        "news": "/news",
        "news post": f"/news/{post}?photo=1",
        "policy sheet": f"/disclosure/policies/{policy}/sheet?village={village}",
        "affairs sheet": f"/disclosure/affairs/{sheet}/sheet",
    }
    report = {}
    for name, path in pages.items():
        size, queries = _measure(client, path)
        report[name] = (size, queries)
        assert size <= FIRST_ROUND_TRIP, (name, size)
        assert queries <= 8, (name, queries)
    print("\nbulletin page budgets (gzip bytes, SQL statements):", report)


def _demo_market(settings) -> None:
    """The demo market of the township (sellers in every village, 17 listings)."""
    import asyncio
    from datetime import UTC, datetime

    from edge.kernel.db import Database
    from edge.market.demo import load_demo_market

    async def run() -> None:
        db = Database(settings.database_path)
        await db.open()
        try:
            async with db.write() as conn:
                await load_demo_market(
                    conn,
                    settings.township_code,
                    datetime(2026, 11, 23, tzinfo=UTC),
                    settings.keys_dir,
                )
        finally:
            await db.close()

    asyncio.run(run())


def test_market_pages_fit_the_budgets(client, settings):
    from tests.intake_support import rows
    from tests.market_support import post_listing, register_seller

    _demo_market(settings)
    seller_id = register_seller(client)
    for n in range(4):
        post_listing(client, seller_id, product=f"黑山羊{n}", description="放山散养，" * 30)
    listing_id = rows(settings, "SELECT id FROM market_listings ORDER BY created_at DESC")[0][0]
    client.cookies.clear()
    pages = {
        "market": "/market",
        "market search": "/market?q=豆角&category=vegetables&max_price=10",
        "market short word": "/market?q=羊",
        "market nearest": "/market?near=450521100202&side=supply",
        "market page 2": "/market?page=2",
        "listing": f"/market/{listing_id}",
        "report": f"/market/{listing_id}/report",
        "origin card": f"/market/{listing_id}/card",
    }
    report = {}
    for name, path in pages.items():
        size, queries = _measure(client, path)
        report[name] = (size, queries)
        assert size <= FIRST_ROUND_TRIP, (name, size)
        assert queries <= 6, (name, queries)  # never one per row
    assert rows(settings, "SELECT count(*) FROM market_listings")[0][0] > 20  # a full page
    print("\nmarket page budgets (gzip bytes, SQL statements):", report)


def test_central_market_pages_fit_the_budgets(central):
    from tests.central_support import central_rows

    listing = central_rows(central, "SELECT node_id, id FROM edge_market_listings LIMIT 1")[0]
    assert central_rows(central, "SELECT count(*) FROM edge_market_listings")[0][0] > 20
    for path in (
        "/market",
        "/market?q=黑山羊&place=450521",
        "/market?q=豆&on=2026-12-01",
        f"/market/{listing['node_id']}/{listing['id']}",
    ):
        size, queries = _measure(central, path)
        assert size <= FIRST_ROUND_TRIP, (path, size)
        assert queries <= 6, (path, queries)


def test_feedback_pages_fit_the_budgets_and_the_list_costs_the_same_for_any_page(
    client, settings, clock
):
    from tests.feedback_support import code_of, item_of, raise_item

    codes = []
    for n in range(45):
        if n % 9 == 8:
            clock.advance(hours=1, minutes=1)  # the per-address limit: 10 an hour
        body = f"第{n}条：村里的路灯坏了，电话13977123456，请尽快修。" * 3
        phone = f"1397712{n:04d}"
        codes.append(code_of(raise_item(client, body=body, name="张三", phone=phone)))
    item_id = item_of(settings.database_path, codes[0])["id"]
    client.cookies.clear()
    pages = {
        "list": "/feedback",
        "list page 3": "/feedback?page=3",
        "list filtered": "/feedback?kind=problem&state=accepted",
        "item": f"/feedback/{item_id}",
        "author": f"/feedback/track/{codes[0]}",
        "form": "/feedback/new",
    }
    report = {}
    for name, path in pages.items():
        size, queries = _measure(client, path)
        report[name] = (size, queries)
        assert size <= FIRST_ROUND_TRIP, (name, size)
        assert queries <= 6, (name, queries)
    assert report["list"][1] == report["list page 3"][1]  # never a query per row
    login(client, STAFF)
    size, queries = _measure(client, "/staff/feedback")
    assert size <= FIRST_ROUND_TRIP and queries <= 12, (size, queries)
    print("\nfeedback page budgets (gzip bytes, SQL statements):", report)


def test_the_inline_stylesheet_is_allowed_by_its_csp_hash_and_nothing_else_inline(client):
    """First paint from the HTML alone (issue 17): the page's one <style> is the site
    stylesheet, and the CSP names its hash, so no other inline style can run."""
    import base64
    import hashlib

    page = client.get("/services/MZ-002")
    styles = re.findall(r"<style>(.*?)</style>", page.text, re.DOTALL)
    assert len(styles) == 1 and styles[0] == (ROOT / "static/css/site.css").read_text().strip()
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy


INITIAL_WINDOW = 10 * 1448  # bytes: Linux's initial congestion window, 10 segments


def test_the_script_bundle_fits_the_initial_congestion_window(client):
    """htmx + read-aloud arrive in one round trip even on a new connection (issue 17): the
    bundle is brotli-compressed once at the highest quality, headers included."""
    page = client.get("/services/MZ-002").text
    url = SCRIPT_SRC.findall(page)[0]
    bundle = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert bundle.headers["content-encoding"] == "br"
    assert "Accept-Encoding" in bundle.headers["vary"]
    head = sum(len(k) + len(v) + 4 for k, v in bundle.headers.items()) + len("HTTP/1.1 200 OK\r\n")
    assert bundle.num_bytes_downloaded + head <= INITIAL_WINDOW
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == bundle.content
    gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip" and gzipped.content == bundle.content
