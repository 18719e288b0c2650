"""The agent app in real Chromium honours the node's Retry-After: a photo refused by a full disk
(507, Retry-After 60) keeps its entry and is not tried again before then, however often the
5 s tick runs; once space is freed, "send now" delivers it once (issue 11, finding 4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright

from edge.kernel.errors import FULL_RETRY_S
from tests.browser_support import agent_phone, sign_in
from tests.cluster import wait_for
from tests.outbox_support import CODE, FORMS_KEPT, camera_photo, fill_intake
from tests.small_disk_support import SmallDiskNode, fill

# edge.kernel.access_log's line: method, route template (never the photo's hash), status, time
PHOTO_PUT = re.compile(r"\bPUT /agent/outbox/photos/\{sha256\} (\d{3}) \d+ms$", re.MULTILINE)
ENTRY = """async () => {
  const [entry] = await CunbanOutbox.all();
  return { state: entry.state, waitMs: entry.nextAttemptAt - Date.now(), error: entry.lastError };
}"""


@pytest.fixture
def phone(
    playwright: Playwright, small_disk_node: SmallDiskNode, tmp_path: Path
) -> Iterator[BrowserContext]:
    context = agent_phone(playwright, tmp_path / "profile", small_disk_node.url)
    yield context
    context.close()


def _photo_puts(node: SmallDiskNode) -> list[str]:
    """The status of every photo PUT the node answered, from its access log."""
    return PHOTO_PUT.findall((node.mountpoint.parent / "edge.log").read_text(errors="replace"))


def test_a_full_disk_s_retry_after_is_honoured_and_the_entry_kept(
    phone: BrowserContext, small_disk_node: SmallDiskNode, tmp_path: Path
):
    node = small_disk_node
    page = phone.pages[0] if phone.pages else phone.new_page()
    sign_in(page)
    wait_for(lambda: page.evaluate("Boolean(navigator.serviceWorker.controller)"), 20, "worker")
    wait_for(lambda: page.evaluate(FORMS_KEPT, f"/agent/apply/{CODE}"), 30, "the forms kept")
    phone.set_offline(True)
    photos = [camera_photo(tmp_path / f"f{n}.jpg", 40 + n) for n in range(2)]
    fill_intake(page, photos, "覃满一")
    filler = fill(node.data)
    phone.set_offline(False)

    wait_for(lambda: _photo_puts(node) == ["507"], 30, "the first photo refused")
    entry = page.evaluate(ENTRY)
    assert entry["state"] == "waiting" and "507" in entry["error"], entry
    assert (FULL_RETRY_S - 10) * 1000 < entry["waitMs"] <= FULL_RETRY_S * 1000, entry
    page.wait_for_timeout(12_000)  # two backoffs and several ticks: none may send it again
    assert _photo_puts(node) == ["507"]
    assert node.rows("SELECT id FROM applications WHERE applicant_name = '覃满一'") == []

    filler.unlink()  # space freed; the agent presses "send now"
    page.click("[data-outbox-send]")
    page.locator("[data-entry][data-state=accepted]").wait_for(timeout=60_000)
    assert _photo_puts(node) == ["507", "200", "200"]
    assert len(node.rows("SELECT id FROM applications WHERE applicant_name = '覃满一'")) == 1
