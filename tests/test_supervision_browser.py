"""电子监察 and 人机考核 in real Chromium on a 360 px phone, at the edge and at central: the page
body never scrolls sideways (wide tables scroll inside their own box), every chart fits the
screen, and printing keeps every table whole (no scroll box, nothing hidden)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from edge.accounts.demo_people import DEMO_PASSWORD
from edge.supervision.simulation import edge_rows, generate, write_central
from tests.browser_support import EdgeNode
from tests.central_process import central_serving
from tests.cluster import wait_for
from tests.conftest import LIANZHOU
from tests.test_central_officer import CITY_ADMIN
from tests.test_supervision import SUPERVISOR

NARROW = {"width": 360, "height": 640}
EDGE_PAGES = [
    "/supervision/?period=quarter",
    "/supervision/?period=quarter&department=township",
    "/supervision/assessment?of=quarter",
    "/disclosure/assessment?of=quarter",
]
CENTRAL_PAGES = [
    "/supervision/?period=quarter",
    f"/supervision/?period=quarter&unit={LIANZHOU}",
    "/supervision/assessment?of=quarter",
    "/disclosure/assessment?of=quarter",
]


def _history_at_edge(database: Path) -> None:
    history = generate(300, date.today(), seed=7, townships={"": LIANZHOU})
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        people = conn.execute("SELECT * FROM accounts").fetchall()
        for sql, values in edge_rows(history, people):
            if values:
                conn.executemany(sql, values)


@pytest.fixture(scope="module")
def central_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real central process whose copies hold three townships' rated months of work."""
    root = tmp_path_factory.mktemp("supervision-central")
    with central_serving(root) as url:
        database = root / "central" / "central.db"
        wait_for(database.exists, 30, "central's database")
        with sqlite3.connect(database, timeout=30) as conn:
            write_central(conn, generate(1500, date.today(), seed=8))
        yield url


def _sign_in(page: Page, base: str, phone: str) -> None:
    page.goto(base + "/login")
    page.fill("#phone", phone)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_load_state()


def _fits(page: Page, url: str) -> None:
    """No sideways scrolling of the body; charts within the screen; tables with rows."""
    answer = page.goto(url)
    assert answer is not None and answer.status == 200, url
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], (url, width)
    charts = page.locator("svg.chart").evaluate_all(
        "svgs => svgs.map(s => s.getBoundingClientRect().right)"
    )
    assert all(right <= NARROW["width"] for right in charts), (url, charts)
    assert page.locator("table tbody tr").count() > 0, url
    if "/supervision/?" in url:
        assert charts, url  # the dashboard draws its on-time chart
        size = page.locator("svg.chart text").first.evaluate(
            "t => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement"
            ".getBoundingClientRect().width / t.ownerSVGElement.viewBox.baseVal.width"
        )
        assert size >= 10, (url, size)  # chart labels stay legible on the phone


def _prints_tables(page: Page, url: str) -> None:
    """In print, every table is shown in full: no box clips it, nothing hides it."""
    page.goto(url)
    page.emulate_media(media="print")
    try:
        tables = page.locator("table").evaluate_all(
            "ts => ts.map(t => [getComputedStyle(t).display, "
            "getComputedStyle(t.parentElement).overflowX, t.getBoundingClientRect().height])"
        )
        assert tables, url
        for display, overflow, height in tables:
            assert display != "none" and overflow == "visible" and height > 0, (url, tables)
        assert len(page.pdf(format="A4")) > 1000
    finally:
        page.emulate_media(media="screen")


def test_edge_dashboard_and_assessment_fit_a_360_px_phone_and_print(
    browser: Browser, edge: EdgeNode
) -> None:
    _history_at_edge(edge.database)
    context = browser.new_context(viewport=NARROW, device_scale_factor=1)
    page = context.new_page()
    _fits(page, edge.url + "/disclosure/assessment?of=quarter")  # signed out
    _sign_in(page, edge.url, SUPERVISOR)
    for path in EDGE_PAGES:
        _fits(page, edge.url + path)
    _prints_tables(page, edge.url + EDGE_PAGES[0])
    _prints_tables(page, edge.url + EDGE_PAGES[2])
    context.close()


def test_central_dashboard_and_assessment_fit_a_360_px_phone_and_print(
    browser: Browser, central_url: str
) -> None:
    context = browser.new_context(viewport=NARROW, device_scale_factor=1)
    page = context.new_page()
    _fits(page, central_url + "/disclosure/assessment?of=quarter")  # signed out
    _sign_in(page, central_url, CITY_ADMIN)
    for path in CENTRAL_PAGES:
        _fits(page, central_url + path)
    _prints_tables(page, central_url + CENTRAL_PAGES[0])
    _prints_tables(page, central_url + CENTRAL_PAGES[2])
    context.close()
