"""Offline 村务公开, 我有话说 and market listings in real Chromium: with no connection the agent
fills in each form (the worker keeps them; a seller's listing form once the market desk was
open), each waits in the outbox with its photos shrunk, and when the link returns each lands
exactly once, photos included; a disclosure the node sends back is corrected and lands.

The browser reaches the real edge node through the logging TCP relay of the intake's test."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.browser_support import EdgeNode, agent_phone, sign_in
from tests.cluster import wait_for
from tests.conftest import QIANJIANG
from tests.outbox_support import FORMS_KEPT, camera_photo
from tests.test_outbox_browser import ENTRIES, Relay

AFFAIRS, FEEDBACK = "/agent/affairs/new", "/agent/feedback/new"
TITLE = "乾江村 离线录入 财务收支公开"
RETURNED = "乾江村 退回后改正 财务收支公开"
LINES = [("income", "集体鱼塘承包费", "8600"), ("spending", "村道路灯电费", "734.20")]


@pytest.fixture
def relay(edge: EdgeNode) -> Iterator[Relay]:
    carrier = Relay(int(edge.url.rsplit(":", 1)[1]))
    yield carrier
    carrier.close()


@pytest.fixture
def device(playwright: Playwright, relay: Relay, tmp_path: Path) -> Iterator[BrowserContext]:
    context = agent_phone(playwright, tmp_path / "profile", relay.url)
    yield context
    context.close()


def _query(edge: EdgeNode, sql: str, *params: Any) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{edge.database}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def _seller(edge: EdgeNode) -> str:
    """A seller of 乾江村 who may post (the demo's)."""
    return _query(
        edge,
        "SELECT id FROM market_sellers WHERE village_code = ? AND suspended_at IS NULL "
        "ORDER BY id LIMIT 1",
        QIANJIANG,
    )[0]["id"]


def _ready_for_offline(page: Page, listing_form: str) -> None:
    sign_in(page)
    wait_for(lambda: page.evaluate("Boolean(navigator.serviceWorker.controller)"), 20, "worker")
    for form in (AFFAIRS, FEEDBACK):
        wait_for(lambda form=form: page.evaluate(FORMS_KEPT, form), 30, f"{form} kept")
    page.goto("/agent/market")  # the desk links each seller's form: the worker keeps them
    wait_for(lambda: page.evaluate(FORMS_KEPT, listing_form), 30, "the listing form kept")


def _fill_affair(page: Page, title: str, total: str) -> None:
    page.goto(AFFAIRS)
    page.select_option("#kind", "finance")
    page.fill("#title", title)
    for row, (direction, label, amount) in enumerate(LINES):
        page.select_option(f"[name=line_dir_{row}]", direction)
        page.fill(f"[name=line_label_{row}]", label)
        page.fill(f"[name=line_amount_{row}]", amount)
    page.fill("#income_total", "8600")
    page.fill("#spending_total", total)
    page.click("form[data-outbox] button[value=submit]")
    page.wait_for_url("**/agent/outbox")


def _fill_feedback(page: Page, photo: Path) -> None:
    page.goto(FEEDBACK)
    page.check("[name=kind][value=help]")
    page.select_option("#category", "water_power")
    page.fill("#body", "离线录入：五保户家的电线老化，想请人来看看。")
    page.fill("#name", "韦大爷")
    page.set_input_files("#photo", photo)
    page.click("form[data-outbox] button")
    page.wait_for_url("**/agent/outbox")


def _fill_listing(page: Page, path: str, photos: list[Path]) -> None:
    page.goto(path)
    page.select_option("#category", "aquatic")
    page.fill("#product", "离线生蚝")
    page.fill("#quantity", "300")
    page.fill("#price", "12")
    page.set_input_files("#photos", photos)
    page.wait_for_timeout(1500)  # the page's own shrinking of the chosen files settles
    page.click("form[data-outbox] button")
    page.wait_for_url("**/agent/outbox")


def _all_accepted(page: Page, relay: Relay, count: int) -> None:
    accepted = page.locator("[data-entry][data-state=accepted]")
    try:
        expect(accepted).to_have_count(count, timeout=90_000)
    except AssertionError as exc:
        raise AssertionError(f"{page.evaluate(ENTRIES)}\n{relay.lines}") from exc


def test_three_forms_filled_offline_each_land_once_with_their_photos(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    listing_form = f"/agent/market/sellers/{_seller(edge)}/listings/new"
    _ready_for_offline(page, listing_form)
    shots = [camera_photo(tmp_path / f"o{n}.jpg", 60 + n) for n in range(3)]

    device.set_offline(True)
    carried_before = len(relay.lines)
    _fill_affair(page, TITLE, "734.20")
    _fill_feedback(page, shots[0])
    _fill_listing(page, listing_form, shots[1:])
    waiting = page.locator("[data-entry]")
    expect(waiting).to_have_count(3)
    titles = waiting.locator("h2").all_inner_texts()
    assert f"村务公开 · {TITLE}" in titles and "我有话说 · 韦**" in titles  # masked on the device
    assert any(title.startswith("集市供求 · ") and "离线生蚝" in title for title in titles)
    expect(page.locator("[data-outbox-count]")).to_have_text("3")
    page.reload()  # offline, from the worker and IndexedDB
    expect(page.locator("[data-entry]")).to_have_count(3)
    assert [line for line in relay.lines[carried_before:] if line != "GET /sw.js"] == []

    device.set_offline(False)
    _all_accepted(page, relay, 3)
    [affair] = _query(edge, "SELECT id, status FROM affairs WHERE title = ?", TITLE)
    assert affair["status"] == "pending"
    assert len(_query(edge, "SELECT 1 FROM affair_lines WHERE affair_id = ?", affair["id"])) == 2
    [item] = _query(edge, "SELECT channel, photo_sha256 FROM feedback WHERE body LIKE '离线录入%'")
    assert item["channel"] == "agent" and item["photo_sha256"]
    [listing] = _query(edge, "SELECT id FROM market_listings WHERE product = '离线生蚝'")
    photos = _query(edge, "SELECT 1 FROM market_photos WHERE listing_id = ?", listing["id"])
    assert len(photos) == 2
    assert len(relay.photo_puts()) == 3
    for path in (AFFAIRS, FEEDBACK, listing_form):
        assert relay.lines.count(f"POST {path}") == 1, relay.lines

    page.reload()  # what the node holds is no longer on the device
    stored = page.evaluate(ENTRIES)
    assert "韦大爷" not in stored and "Blob(" not in stored


def test_a_disclosure_the_node_sends_back_is_corrected_and_lands_once(
    device: BrowserContext, edge: EdgeNode, relay: Relay
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page, f"/agent/market/sellers/{_seller(edge)}/listings/new")
    device.set_offline(True)
    _fill_affair(page, RETURNED, "743.20")  # the spending lines add up to 734.20
    device.set_offline(False)

    card = page.locator("[data-entry][data-state=fix]")
    card.wait_for(timeout=30_000)
    assert "734.20" in card.inner_text()  # the node's reason, kept with the form
    card.locator("a.button").click()
    page.wait_for_url(f"**{AFFAIRS}?outbox=*")
    total = page.locator("#spending_total")
    wait_for(lambda: total.input_value() == "743.20", 10, "the kept values filled in")
    assert page.locator("#title").input_value() == RETURNED
    assert "734.20" in page.locator("#spending_total + p.error").inner_text()
    total.fill("734.20")
    page.click("form[data-outbox] button[value=submit]")
    page.wait_for_url("**/agent/outbox")

    _all_accepted(page, relay, 1)
    assert len(_query(edge, "SELECT 1 FROM affairs WHERE title = ?", RETURNED)) == 1
    assert relay.lines.count(f"POST {AFFAIRS}") == 2  # sent back once, then accepted
