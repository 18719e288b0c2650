"""DESIGN.md §5 budgets, measured on the real pages with the demo data."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.conftest import ADMIN, AGENT_QIANJIANG, STAFF, login

FIRST_ROUND_TRIP = 13_032  # bytes: HTML + CSS, gzip, per first visit
FRAGMENT_BUDGET = 5_000
SCRIPT_SRC = re.compile(r'<script src="([^"]+)"')
AGENT_SCRIPTS_BUDGET = 16_000  # gzip: the agent app's own scripts and its service worker
CSS_LINK = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
SCRIPT = re.compile(r"<script\b[^>]*>")

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
]
SIGNED_IN_PAGES = [
    (AGENT_QIANJIANG, "/agent/"),
    (STAFF, "/staff/"),
    (ADMIN, "/admin/accounts"),
    (ADMIN, "/admin/accounts/new"),
]


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _first_visit_bytes(client, path: str) -> int:
    page = client.get(path)
    css = CSS_LINK.findall(page.text)
    assert len(css) == 1, "one stylesheet per page"
    return _gz(page.content) + _gz(client.get(css[0]).content)


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


def test_scripts_are_deferred_and_local(client):
    page = client.get("/services").text
    scripts = SCRIPT.findall(page)
    assert scripts and all(" defer" in tag for tag in scripts)
    assert "http://" not in "".join(scripts) and "https://" not in "".join(scripts)


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
    scripts = [url for url in SCRIPT_SRC.findall(page) if "/htmx." not in url]
    assert {re.sub(r"\.[0-9a-f]{12}", "", url) for url in scripts} >= {
        "/static/js/photo.js",
        "/static/js/outbox.js",
        "/static/js/pwa.js",
        "/static/js/signature.js",
        "/static/js/intake.js",
    }
    served = [client.get(url).content for url in scripts] + [client.get("/sw.js").content]
    assert sum(_gz(body) for body in served) <= AGENT_SCRIPTS_BUDGET


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
    css = CSS_LINK.findall(page.text)[0]
    return _gz(page.content) + _gz(client.get(css).content), len(statements)


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
