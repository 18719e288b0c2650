"""读给我听: guides, one-time notices and tracking status offer to read themselves aloud with
the browser's own speech synthesis, in real Chromium; hidden when there is no Chinese voice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.browser_support import EdgeNode

# Headless Chromium here has no speech engine: these stand in for the phone's built-in voices
# at the API the page uses (speechSynthesis, SpeechSynthesisUtterance) and record what would be
# spoken, in which voice.
VOICES = """
window.__spoken = [];
const voices = %s;
window.SpeechSynthesisUtterance = class {
  constructor(text) { this.text = text; }
};
Object.defineProperty(window.speechSynthesis, "getVoices", { value: () => voices });
Object.defineProperty(window.speechSynthesis, "speak", {
  value: (utterance) => window.__spoken.push([utterance.voice.lang, utterance.text]),
});
"""
ZH_VOICE = '[{ lang: "zh-CN", name: "Chinese", default: true, localService: true }]'
BUTTON = "button[data-read-aloud]"


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740})
    yield context
    context.close()


@pytest.mark.parametrize("path", ["/services/MZ-002", "/services/MZ-002/notice"])
def test_a_guide_reads_itself_aloud_in_chinese(phone: BrowserContext, edge: EdgeNode, path: str):
    phone.add_init_script(VOICES % ZH_VOICE)
    page = phone.new_page()
    page.goto(edge.url + path)
    button = page.locator(BUTTON)
    button.wait_for(state="visible")
    assert button.inner_text() == "🔊 读给我听"
    button.click()
    spoken = page.evaluate("window.__spoken")
    assert spoken and all(lang == "zh-CN" for lang, _text in spoken)
    assert any("最低生活保障" in text for _lang, text in spoken), spoken[:3]
    assert button.inner_text() == "停止朗读" and button.get_attribute("aria-pressed") == "true"
    button.click()
    assert button.inner_text() == "🔊 读给我听"


def test_without_a_chinese_voice_there_is_no_button(phone: BrowserContext, edge: EdgeNode):
    phone.add_init_script(VOICES % '[{ lang: "en-US", name: "English" }]')
    page = phone.new_page()
    page.goto(edge.url + "/services/MZ-002")
    page.wait_for_load_state("load")
    assert page.locator(BUTTON).count() == 1 and not page.locator(BUTTON).is_visible()


def test_a_page_reached_by_a_boosted_link_offers_it_too(phone: BrowserContext, edge: EdgeNode):
    phone.add_init_script(VOICES % ZH_VOICE)
    page = phone.new_page()
    page.goto(edge.url + "/services")
    page.click("a[href='/services/MZ-002']")  # htmx-boosted: the body is swapped, no reload
    page.wait_for_url("**/services/MZ-002")
    page.locator(BUTTON).wait_for(state="visible")
