"""Printable documents in real Chromium: at 360 px no horizontal scroll and no label squeezed
below two characters (receipt, certificate, verify page, guide, notice); each printable page
is one A4 page (Chromium's PDF); the print button works with scripts and hides without them;
axe-core finds no serious or critical problem on the main pages of each role; the agent app
checks a certificate's QR code with the network off.

axe-core (npm, MPL-2.0) is vendored for the tests only under tests/vendor/axe-core/; OpenCV
(PyPI, test extra) reads the certificate's QR code back.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

from edge.accounts.demo_people import DEMO_PASSWORD
from tests.browser_support import EdgeNode, agent_phone, controlled_by_the_worker, sign_in
from tests.conftest import ADMIN, AGENT_QIANJIANG, STAFF

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
# Every label-like element whose first two characters fall on different lines (the "one
# character per line" a too-narrow column gives): none.
SQUEEZED = """() => {
  const split = (el) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent;
      const start = text.search(/\\S\\S/);
      if (start < 0) continue;
      const top = (offset) => {
        const range = document.createRange();
        range.setStart(node, offset);
        range.setEnd(node, offset + 1);
        return range.getBoundingClientRect().top;
      };
      return Math.abs(top(start) - top(start + 1)) > 2;
    }
    return false;
  };
  return [...document.querySelectorAll("dt, dd, th, td, label, legend, button")]
    .filter((el) => el.offsetParent !== null && split(el))
    .map((el) => el.tagName + ": " + el.textContent.trim().slice(0, 20));
}"""
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", "));
}"""


def _demo(edge: EdgeNode) -> dict[str, str]:
    with sqlite3.connect(edge.database) as conn:
        application_id, seal_id = conn.execute(
            "SELECT a.id, s.id FROM applications a JOIN seals s ON s.application_id = a.id "
            "WHERE a.item_code = 'CW-001' AND a.applicant_name = '黄秋菊'"
        ).fetchone()
    return {"application": application_id, "seal": seal_id}


@pytest.fixture(scope="module")
def demo(edge: EdgeNode) -> dict[str, str]:
    return _demo(edge)


def _signed_in(browser: Browser, edge: EdgeNode, phone: str, **options: object) -> BrowserContext:
    context = browser.new_context(base_url=edge.url, viewport=PHONE, locale="zh-CN", **options)
    page = context.new_page()
    page.goto("/login")
    page.fill("#phone", phone)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_load_state()
    page.close()
    return context


@pytest.fixture(scope="module")
def agent(browser: Browser, edge: EdgeNode) -> Iterator[BrowserContext]:
    context = _signed_in(browser, edge, AGENT_QIANJIANG)
    yield context
    context.close()


def _pages(demo: dict[str, str]) -> dict[str, str]:
    return {
        "receipt": f"/agent/applications/{demo['application']}/receipt",
        "certificate": f"/certificates/{demo['seal']}",
        "verify": f"/verify/{demo['seal']}",
        "guide": "/services/CW-001",
        "notice": "/services/MZ-002/notice",
    }


PRINTABLE = ("receipt", "certificate", "verify", "notice")


@pytest.mark.parametrize("name", ["receipt", "certificate", "verify", "guide", "notice"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fits_a_360px_phone(agent: BrowserContext, demo, name: str, lang: str, tmp_path: Path):
    page = agent.new_page()
    response = page.goto(f"{_pages(demo)[name]}?lang={lang}")
    assert response is not None and response.status == 200
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide"
    assert page.evaluate(SQUEEZED) == []
    shot = tmp_path / f"{name}-{lang}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[16:20] == PHONE["width"].to_bytes(4, "big")  # PNG width
    page.close()


@pytest.mark.parametrize("name", PRINTABLE)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_prints_on_one_a4_page(agent: BrowserContext, demo, name: str, lang: str):
    page = agent.new_page()
    page.goto(f"{_pages(demo)[name]}?lang={lang}")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(PDF_PAGE.findall(pdf)) == 1, f"{name} prints on {len(PDF_PAGE.findall(pdf))} pages"
    page.close()


@pytest.mark.parametrize("name", PRINTABLE)
def test_print_button_prints_and_hides_without_scripts(
    agent: BrowserContext, browser: Browser, edge: EdgeNode, demo, name: str
):
    page = agent.new_page()
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    page.goto(_pages(demo)[name])
    button = page.locator("button[data-print]")
    button.click()
    assert page.evaluate("window.printed") == 1
    page.close()
    cookies = agent.cookies()
    plain = browser.new_context(
        base_url=edge.url, viewport=PHONE, java_script_enabled=False, locale="zh-CN"
    )
    plain.add_cookies(cookies)
    page = plain.new_page()
    page.goto(f"{_pages(demo)[name]}?lang=zh")
    assert page.locator("button[data-print]").is_hidden()
    assert "浏览器菜单" in page.locator("main").inner_text()
    plain.close()


def _axe(page: Page, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    # controls shown only where the browser supports them (push: not in headless Chromium)
    page.evaluate("document.querySelectorAll('#push-enable').forEach((b) => (b.hidden = false))")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


ROLE_PAGES = {
    "": ["/", "/services", "/services/MZ-002", "/services/MZ-002/notice", "/track"],
    AGENT_QIANJIANG: ["/agent/", "/agent/check", "/agent/apply/CW-001", "/agent/outbox"],
    STAFF: ["/staff/"],
    ADMIN: ["/admin/accounts", "/admin/accounts/new"],
}


@pytest.mark.parametrize("phone", list(ROLE_PAGES))
def test_axe_finds_nothing_serious_on_each_roles_main_pages(
    browser: Browser, edge: EdgeNode, demo, phone: str
):
    if phone:
        context = _signed_in(browser, edge, phone, bypass_csp=True)
    else:
        context = browser.new_context(
            base_url=edge.url, viewport=PHONE, locale="zh-CN", bypass_csp=True
        )
    paths = list(ROLE_PAGES[phone])
    if phone == AGENT_QIANJIANG:
        paths += [_pages(demo)[name] for name in ("receipt", "certificate")]
        paths.append(f"/agent/applications/{demo['application']}")
    if phone == STAFF:
        paths.append(f"/staff/applications/{demo['application']}")
    if not phone:
        paths.append(_pages(demo)["verify"])
    page = context.new_page()
    found = {path: _axe(page, path) for path in paths}
    context.close()
    assert {path: problems for path, problems in found.items() if problems} == {}


def test_agent_app_checks_a_certificate_offline(
    playwright: Playwright, edge: EdgeNode, demo, tmp_path: Path
):
    context = agent_phone(playwright, tmp_path / "profile", edge.url)
    try:
        page = context.new_page()
        sign_in(page)
        controlled_by_the_worker(page)
        page.goto(_pages(demo)["certificate"])
        qr = page.locator("[data-qr]").get_attribute("data-qr")
        assert qr and "#" in qr
        page.goto("/agent/check")  # kept by the worker with the keys
        page.wait_for_timeout(300)
        context.set_offline(True)
        page.goto("/agent/check")
        verdicts = {}
        address, _hash, token = qr.rpartition("#")
        # a character inside the signature (base32 characters 7 to 108), so the JSON still reads
        tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
        cases = {"valid": qr, "invalid": f"{address}#{tampered}", "unreadable": "你好"}
        for expected, text in cases.items():
            page.fill("#seal-text", text)
            page.click("#seal-verify")
            verdict = page.locator("#seal-result [data-verdict]")
            verdict.wait_for()
            verdicts[expected] = verdict.get_attribute("data-verdict")
            if expected == "valid":
                shown = page.locator("#seal-result").inner_text()
                assert "黄秋菊" in shown and "合浦县廉州镇第二小学" in shown and "子女入学" in shown
                assert "乾江村村民委员会" in shown
        page.evaluate("localStorage.clear()")
        assert verdicts == {"valid": "valid", "invalid": "invalid", "unreadable": "unreadable"}
    finally:
        context.close()


NO_WEBCRYPTO_ED25519 = """(() => {
  const subtle = crypto.subtle;
  const importKey = subtle.importKey.bind(subtle);
  const verify = subtle.verify.bind(subtle);
  const ed25519 = (algorithm) => [algorithm, algorithm && algorithm.name].includes("Ed25519");
  const refuse = () => Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
  subtle.importKey = (format, data, algorithm, ...rest) =>
    ed25519(algorithm) ? refuse() : importKey(format, data, algorithm, ...rest);
  subtle.verify = (algorithm, ...rest) =>
    ed25519(algorithm) ? refuse() : verify(algorithm, ...rest);
})();"""


def _offline_verdicts(page: Page, qr: str) -> dict[str, str]:
    address, _hash, token = qr.rpartition("#")
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    verdicts = {}
    for expected, text in {"valid": qr, "invalid": f"{address}#{tampered}"}.items():
        page.fill("#seal-text", text)
        page.click("#seal-verify")
        verdict = page.locator(f"#seal-result [data-verdict]:not([data-seen='{expected}'])")
        verdict.wait_for()
        verdicts[expected] = str(verdict.get_attribute("data-verdict"))
        verdict.evaluate("(node, seen) => (node.dataset.seen = seen)", expected)
    return verdicts


@pytest.mark.parametrize("webcrypto", ["with Ed25519", "without Ed25519"])
def test_the_offline_check_falls_back_to_the_vendored_verifier_only_without_webcrypto_ed25519(
    playwright: Playwright, edge: EdgeNode, demo, tmp_path: Path, webcrypto: str
):
    context = agent_phone(playwright, tmp_path / "profile", edge.url)
    try:
        if webcrypto == "without Ed25519":
            context.add_init_script(NO_WEBCRYPTO_ED25519)
        page = context.new_page()
        sign_in(page)
        controlled_by_the_worker(page)
        page.goto(_pages(demo)["certificate"])
        qr = str(page.locator("[data-qr]").get_attribute("data-qr"))
        page.goto("/agent/check")
        page.wait_for_timeout(300)
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        context.set_offline(True)
        page.goto("/agent/check")
        supported = page.evaluate(
            "crypto.subtle.importKey('raw', new Uint8Array(32), {name: 'Ed25519'}, false, "
            "['verify']).then(() => true, () => false)"
        )
        assert supported is (webcrypto == "with Ed25519")
        assert _offline_verdicts(page, qr) == {"valid": "valid", "invalid": "invalid"}
        loaded = [url for url in fetched if "noble-ed25519" in url]
        assert len(loaded) == (0 if supported else 1), fetched  # once, from the worker's cache
    finally:
        context.close()


def test_the_certificates_qr_reads_back_at_its_printed_3_cm(browser: Browser, edge: EdgeNode, demo):
    """The QR as Chromium prints it (30 mm wide, quiet zone included), captured at about 3
    pixels per module (a 3 cm code in a third of a phone camera's frame), decodes to the whole
    verify URL and token."""
    context = _signed_in(browser, edge, AGENT_QIANJIANG, device_scale_factor=2)
    page = context.new_page()
    page.goto(_pages(demo)["certificate"])
    page.emulate_media(media="print")
    expected = page.locator("[data-qr]").get_attribute("data-qr")
    code = page.locator(".cert-qr .qr svg")
    width_mm = code.evaluate("(svg) => svg.getBoundingClientRect().width") * 25.4 / 96
    assert width_mm <= 30.5
    shot = code.screenshot()
    context.close()
    image = cv2.imdecode(numpy.frombuffer(shot, numpy.uint8), cv2.IMREAD_GRAYSCALE)
    assert image.shape[1] <= 240  # pixels across the whole code
    assert _decoded(image) == expected


def _decoded(image: numpy.ndarray) -> str:
    """The QR's text as a phone's scanner would read it: OpenCV's classic detector, and its
    ArUco-based one when the classic misses a code it cannot locate (its finder-pattern search
    fails on some valid codes of this size, about 1 run in 17 here: a scanner tries again)."""
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        decoded, _points, _straight = detector.detectAndDecode(image)
        if decoded:
            return str(decoded)
    return ""
