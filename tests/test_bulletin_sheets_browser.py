"""Policy and village-affairs notice-board sheets in real Chromium: each prints on one A4
page (the longest demo finance table too) and reads on a 360 px screen."""

from __future__ import annotations

import re
import sqlite3

from tests.browser_support import EdgeNode

PDF_PAGE = re.compile(rb"/Type\s*/Page[^s]")
NARROW = {"width": 360, "height": 640}


def _sheets(edge: EdgeNode) -> list[str]:
    with sqlite3.connect(edge.database) as conn:
        policies = [r[0] for r in conn.execute("SELECT id FROM policies")]
        affairs = [
            r[0]
            for r in conn.execute(
                "SELECT a.id FROM affairs a LEFT JOIN affair_lines l ON l.affair_id = a.id "
                "WHERE a.status = 'published' GROUP BY a.id ORDER BY count(l.affair_id) DESC, "
                "length(a.body) DESC LIMIT 3"
            )
        ]
    assert policies and affairs
    return [f"/disclosure/policies/{p}/sheet" for p in policies] + [
        f"/disclosure/affairs/{a}/sheet" for a in affairs
    ]


def test_policy_and_affairs_sheets_print_on_one_a4_page_and_fit_360_px(browser, edge: EdgeNode):
    paths = _sheets(edge)
    context = browser.new_context()
    page = context.new_page()
    for path in paths:
        answer = page.goto(edge.url + path)
        assert answer is not None and answer.status == 200, path
        pdf = page.pdf(format="A4", print_background=False)
        assert len(PDF_PAGE.findall(pdf)) == 1, path
    context.close()
    narrow = browser.new_context(viewport=NARROW)
    page = narrow.new_page()
    for path in paths:
        page.goto(edge.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], (path, width)
    narrow.close()
