"""The power list and flow charts in real Chromium: readable on a 360 px screen without
horizontal scrolling, and every power page (and its notice-board sheet) prints on one A4 page."""

from __future__ import annotations

import io
import re

from PIL import Image

from edge.powers.loader import power_list
from tests.browser_support import EdgeNode

NARROW = {"width": 360, "height": 640}
PAGES = [
    "/disclosure/",
    "/disclosure/powers",
    "/disclosure/powers/JC-01",
    "/disclosure/powers/DB-01?lang=en",
    "/disclosure/results",
    "/disclosure/powers/JC-01/sheet",
]
PDF_PAGE = re.compile(rb"/Type\s*/Page[^s]")


def test_disclosure_pages_fit_a_360_px_screen(browser, edge: EdgeNode, tmp_path):
    context = browser.new_context(viewport=NARROW, device_scale_factor=1)
    page = context.new_page()
    for path in PAGES:
        page.goto(edge.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], (path, width)
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True)))
        assert shot.width == NARROW["width"] and shot.height > NARROW["height"] / 2, path
        shot.save(tmp_path / (path.strip("/").replace("/", "_").replace("?", "_") + ".png"))
    flow = page.goto(edge.url + "/disclosure/powers/JC-01")
    assert flow is not None and flow.status == 200
    boxes = page.locator("ol.flow > li").evaluate_all(
        "items => items.map(i => i.getBoundingClientRect()).map(r => [r.top, r.right])"
    )
    assert len(boxes) == 5 and [top for top, _ in boxes] == sorted(top for top, _ in boxes)
    assert all(right <= NARROW["width"] for _, right in boxes)
    context.close()


def test_every_power_page_and_its_sheet_print_on_one_a4_page(browser, edge: EdgeNode):
    context = browser.new_context()
    page = context.new_page()
    codes = [p.code for area in power_list().areas for p in area.powers]
    for path in [f"/disclosure/powers/{code}" for code in codes] + [
        "/disclosure/powers/JC-01/sheet",
        "/disclosure/powers/DB-01?lang=en",
    ]:
        page.goto(edge.url + path)
        pdf = page.pdf(format="A4", print_background=False)
        assert len(PDF_PAGE.findall(pdf)) == 1, path
    context.close()
