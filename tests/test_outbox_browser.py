"""Offline intake in real Chromium: the application waits in IndexedDB (through a reload) and
reaches the node exactly once with both photos when the link returns; a connection cut in the
middle of the second photo costs only that photo again.

The browser talks to the real edge node through a TCP relay the test controls, which logs
every request line it carries and can cut one connection mid-body.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sqlite3
import struct
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from edge.accounts.demo_people import DEMO_PASSWORD
from tests.browser_support import EdgeNode, agent_phone, sign_in, worker_registration
from tests.cluster import free_port, wait_for
from tests.conftest import AGENT_QIANJIANG
from tests.intake_support import resident_id
from tests.outbox_support import CODE, FORMS_KEPT, camera_photo, fill_intake

REQUEST_LINE = re.compile(rb"(GET|POST|PUT) (\S+) HTTP/1\.1\r\n")
CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")
PHOTO_PUT = "PUT /agent/outbox/photos/"
LINGER_RESET = struct.pack("ii", 1, 0)  # close() sends RST
LONG_SIDE, MAX_BYTES = 1600, 300_000
KEPT_PHOTOS = """async () => {
  const db = await new Promise((done, fail) => {
    const request = indexedDB.open("cunban-outbox");
    request.onsuccess = () => done(request.result);
    request.onerror = () => fail(request.error);
  });
  const entries = await new Promise((done) => {
    const request = db.transaction("entries").objectStore("entries").getAll();
    request.onsuccess = () => done(request.result);
  });
  db.close();
  const photos = [];
  for (const entry of entries) {
    for (const photo of entry.photos) {
      const bitmap = await createImageBitmap(photo.blob);
      photos.push({ type: photo.blob.type, size: photo.blob.size, width: bitmap.width,
                    height: bitmap.height, sha256: photo.sha256, state: entry.state });
    }
  }
  return photos;
}"""


# --- a relay between Chromium and the node ------------------------------------------------


class Relay:
    """Carries TCP from a loopback port to the node; logs request lines; on demand cuts the
    connection carrying the n-th photo PUT halfway through its body, or resets every new
    connection at once (`refusing`: a node that is down while the LAN is up), counting them."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.lines: list[str] = []
        self.cut_photo: int | None = None
        self.cut_done = threading.Event()
        self.refusing = False
        self.refused = 0
        self._open: list[socket.socket] = []
        self._photos_seen = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def photo_puts(self) -> list[str]:
        """The photo PUTs seen, as their sha256, in order."""
        return [line[len(PHOTO_PUT) :] for line in self.lines if line.startswith(PHOTO_PUT)]

    def _accept(self) -> None:
        while True:
            try:
                browser_side, _address = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                self.refused += 1
                browser_side.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
                browser_side.close()  # a reset, as a port nobody listens on answers
                continue
            node_side = socket.create_connection(("127.0.0.1", self.target_port))
            self._open.append(browser_side)
            threading.Thread(target=self._up, args=(browser_side, node_side), daemon=True).start()
            threading.Thread(target=self._down, args=(node_side, browser_side), daemon=True).start()

    def refuse(self) -> None:
        """From now on reset every new connection; close those open (kept alive)."""
        self.refusing = True
        for one in self._open:
            _close(one)

    def _cut_at(self, data: bytes) -> int | None:
        """Log the requests starting in `data`; the offset to cut at, if one is to be cut."""
        cut = None
        for match in REQUEST_LINE.finditer(data):
            line = f"{match[1].decode()} {match[2].decode()}"
            with self._lock:
                self.lines.append(line)
                if not line.startswith(PHOTO_PUT):
                    continue
                self._photos_seen += 1
                if self._photos_seen != self.cut_photo:
                    continue
            head_end = data.find(b"\r\n\r\n", match.start()) + 4
            length = int(CONTENT_LENGTH.search(data, match.start(), head_end)[1])
            cut = head_end + length // 2
        return cut

    def _up(self, source: socket.socket, sink: socket.socket) -> None:
        budget: int | None = None  # bytes still to pass before cutting
        try:
            while data := source.recv(65536):
                if budget is None:
                    budget = self._cut_at(data)
                if budget is not None and budget <= len(data):
                    sink.sendall(data[:budget])
                    self.cut_done.set()
                    break
                sink.sendall(data)
                if budget is not None:
                    budget -= len(data)
        except OSError:
            pass
        finally:
            _close(source, sink)

    def _down(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source, sink)

    def close(self) -> None:
        self._listener.close()


def _close(*sockets: socket.socket) -> None:
    for one in sockets:
        with contextlib.suppress(OSError):
            one.shutdown(socket.SHUT_RDWR)
        one.close()


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def relay(edge: EdgeNode) -> Iterator[Relay]:
    carrier = Relay(int(edge.url.rsplit(":", 1)[1]))
    yield carrier
    carrier.close()


@pytest.fixture
def device(playwright: Playwright, relay: Relay, tmp_path: Path) -> Iterator[BrowserContext]:
    """An agent's phone that reaches the node through the relay."""
    context = agent_phone(playwright, tmp_path / "profile", relay.url)
    yield context
    context.close()


def _query(edge: EdgeNode, sql: str, *params: Any) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{edge.database}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def _ready_for_offline(page: Page) -> None:
    sign_in(page)
    wait_for(lambda: page.evaluate("Boolean(navigator.serviceWorker.controller)"), 20, "worker")
    wait_for(lambda: page.evaluate(FORMS_KEPT, f"/agent/apply/{CODE}"), 30, "the intake forms kept")


def _applications_of(edge: EdgeNode, name: str) -> list[sqlite3.Row]:
    return _query(edge, "SELECT id, tracking_code FROM applications WHERE applicant_name = ?", name)


def _material_photos(edge: EdgeNode, application_id: str) -> list[sqlite3.Row]:
    return _query(
        edge,
        "SELECT material_key, sha256 FROM attachments WHERE application_id = ? AND kind = ?",
        application_id,
        "material",
    )


ENTRIES = """async () => JSON.stringify(await CunbanOutbox.all(),
  (key, value) => (value instanceof Blob ? `Blob(${value.size})` : value))"""


def _accepted_code(page: Page, relay: Relay) -> str:
    card = page.locator("[data-entry][data-state=accepted]")
    try:
        card.wait_for(timeout=60_000)
    except Exception as exc:  # say what the device and the relay saw
        raise AssertionError(f"{page.evaluate(ENTRIES)}\n{relay.lines}") from exc
    return card.locator("[data-code]").inner_text()


def test_offline_intake_survives_a_reload_and_arrives_once_with_both_photos(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"m{n}.jpg", n) for n in range(2)]
    device.set_offline(True)
    carried_before = len(relay.lines)
    fill_intake(page, photos, "覃一线")
    waiting = page.locator("[data-entry]")
    expect(waiting).to_have_count(1)  # drawn from IndexedDB once the page has loaded
    assert waiting.get_attribute("data-state") in ("waiting", "sending")
    expect(page.locator("[data-outbox-count]")).to_have_text("1")
    assert waiting.locator("h2").inner_text() == "无业/务农证明 · 覃**"  # masked on the device
    sync_tags = "navigator.serviceWorker.ready.then((r) => r.sync.getTags())"
    [key] = page.evaluate("async () => (await CunbanOutbox.all()).map((entry) => entry.key)")
    # Background Sync will wake the worker: a tag per kept form, so an earlier form's failed
    # round (the browser retries it only minutes later) does not hold this one back
    assert page.evaluate(sync_tags) == [f"cunban-outbox:{key}"]

    kept = page.evaluate(KEPT_PHOTOS)  # shrunk on the device, never the 3000 px original
    assert len(kept) == 2
    for photo in kept:
        assert photo["type"] == "image/jpeg" and photo["size"] <= MAX_BYTES, photo
        assert max(photo["width"], photo["height"]) == LONG_SIDE, photo

    page.reload()  # offline: the outbox page comes from the worker, the entry from IndexedDB
    expect(page.locator("[data-entry]")).to_have_count(1)
    assert _applications_of(edge, "覃一线") == []
    # offline: nothing of the application reached the node. The browser's own update check of
    # the worker script after a navigation is not covered by DevTools' offline emulation; it
    # carries nothing of the device's data, so it is the one request allowed here.
    assert [line for line in relay.lines[carried_before:] if line != "GET /sw.js"] == []

    device.set_offline(False)
    code = _accepted_code(page, relay)
    [application] = _applications_of(edge, "覃一线")
    assert code.replace("-", "") == application["tracking_code"]
    assert len(_material_photos(edge, application["id"])) == 2
    assert sorted(relay.photo_puts()) == sorted(photo["sha256"] for photo in kept)
    assert relay.lines.count(f"POST /agent/apply/{CODE}") == 1
    wait_for(lambda: page.locator("[data-outbox-count]").is_hidden(), 10, "the badge cleared")

    page.reload()  # the accepted entry keeps no personal data and no photos
    stored = page.evaluate(ENTRIES)
    assert "覃一线" not in stored and "450521" not in stored and "13800138000" not in stored
    assert "Blob(" not in stored and code in stored


ATTEMPTS = """async () => (await CunbanOutbox.all()).map((entry) =>
  ({ state: entry.state, attempts: entry.attempts || 0, next: entry.nextAttemptAt || 0 }))"""


def test_tries_that_never_left_the_device_do_not_back_off(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"n{n}.jpg", 60 + n) for n in range(2)]
    device.set_offline(True)  # DevTools' offline: the page's navigator.onLine stays true
    fill_intake(page, photos, "覃九线")
    page.wait_for_timeout(2_000)  # some eight rounds, each refused by the browser at once
    # none counted as a failed try: the entry is due the moment a request can leave
    assert page.evaluate(ATTEMPTS) == [{"state": "waiting", "attempts": 0, "next": 0}]
    carried_before = len(relay.lines)
    device.set_offline(False)
    code = _accepted_code(page, relay)
    [application] = _applications_of(edge, "覃九线")
    assert code.replace("-", "") == application["tracking_code"]
    carried = [line.split("?")[0] for line in relay.lines[carried_before:] if line != "GET /sw.js"]
    assert carried[0] == "GET /agent/outbox/session"
    assert carried.count(f"POST /agent/apply/{CODE}") == 1 and len(relay.photo_puts()) == 2


HOLDS_LOCK = """async () => (await navigator.locks.query()).held
  .some((lock) => lock.name === "cunban-outbox")"""
STATES = "async () => (await CunbanOutbox.all()).map((entry) => entry.state)"


def _tick(page: Page, ms: int) -> None:
    """Let the page's clock run `ms` and wait (real time) for the round it started to end."""
    page.clock.run_for(ms)
    wait_for(lambda: not page.evaluate(HOLDS_LOCK), 10, "the round to end")


def test_a_node_that_refuses_connections_is_tried_ever_less_often(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"r{n}.jpg", 80 + n) for n in range(2)]
    device.set_offline(True)
    fill_intake(page, photos, "覃十线")
    relay.refuse()  # the node is down, the LAN is up: every try is reset at once
    page.clock.install()
    page.reload()  # the outbox page from the worker, on the page's fake clock
    expect(page.locator("[data-entry]")).to_have_count(1)
    page.clock.pause_at(datetime.fromtimestamp(page.evaluate("Date.now()") / 1000 + 1))
    device.set_offline(False)
    refused_before = relay.refused
    tries = []
    for _second in range(70):
        for _quarter in range(4):
            _tick(page, 250)
        tries.append(relay.refused - refused_before)
    # fast at first (a round every 0.25 s), then every second, then every 5 s: some 80 + 40
    # + 2 tries in 70 s instead of 280 (the worker's Background Sync round may add one)
    assert tries[19] >= 60, tries
    assert tries[59] - tries[19] <= 45, tries
    assert tries[69] - tries[59] <= 4, tries
    assert page.evaluate(STATES) == ["waiting"]

    relay.refusing = False  # the node is back: the form goes with the next try, within 5 s
    quarters = 0
    while f"POST /agent/apply/{CODE}" not in relay.lines and quarters < 24:
        _tick(page, 250)
        quarters += 1
    assert quarters <= 21, relay.lines[-5:]
    wait_for(lambda: page.evaluate(STATES) == ["accepted"], 30, "accepted")
    [application] = _applications_of(edge, "覃十线")
    assert len(_material_photos(edge, application["id"])) == 2
    assert len(relay.photo_puts()) == 2


def test_a_cut_in_the_second_photo_resends_only_that_photo(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"c{n}.jpg", 10 + n) for n in range(2)]
    relay.cut_photo = 2
    fill_intake(page, photos, "覃二线")
    assert relay.cut_done.wait(30), "the second photo was never sent"
    code = _accepted_code(page, relay)

    first, second = relay.photo_puts()[0], relay.photo_puts()[1]
    assert first != second
    assert relay.photo_puts() == [first, second, second]  # the retry skips the first photo
    [application] = _applications_of(edge, "覃二线")
    assert code.replace("-", "") == application["tracking_code"]
    assert len(_material_photos(edge, application["id"])) == 2
    assert relay.lines.count(f"POST /agent/apply/{CODE}") == 1


def test_a_session_lost_while_offline_asks_to_sign_in_and_loses_nothing(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"s{n}.jpg", 20 + n) for n in range(2)]
    device.set_offline(True)
    fill_intake(page, photos, "覃五线")
    device.clear_cookies()  # the session is gone by the time the link returns
    device.set_offline(False)

    login_note = page.locator("[data-outbox-login]")
    login_note.wait_for(timeout=30_000)
    assert page.locator("[data-entry]").get_attribute("data-state") == "login"
    assert _applications_of(edge, "覃五线") == []
    login_note.locator("a").click()
    page.wait_for_url("**/login?next=/agent/outbox")
    page.fill("#phone", AGENT_QIANJIANG)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url("**/agent/outbox")

    code = _accepted_code(page, relay)  # sent with the new session's CSRF token
    [application] = _applications_of(edge, "覃五线")
    assert code.replace("-", "") == application["tracking_code"]
    assert len(_material_photos(edge, application["id"])) == 2
    assert relay.lines.count(f"POST /agent/apply/{CODE}") == 1


def test_an_application_the_node_sends_back_is_corrected_without_retaking_photos(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"f{n}.jpg", 30 + n) for n in range(2)]
    good_id = resident_id("19720815", "214")
    typo = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # the check character is wrong
    device.set_offline(True)
    fill_intake(page, photos, "覃六线", id_number=typo)
    device.set_offline(False)

    card = page.locator("[data-entry][data-state=fix]")
    card.wait_for(timeout=30_000)
    assert "校验" in card.inner_text()  # the node's reason, in the agent's language
    assert _applications_of(edge, "覃六线") == []
    card.locator("a.button").click()
    page.wait_for_url(f"**/agent/apply/{CODE}?outbox=*")
    id_field = page.locator("#id_number")
    wait_for(lambda: id_field.input_value() == typo, 10, "the kept values filled in")
    assert page.locator("#name").input_value() == "覃六线"
    assert "校验" in page.locator("#id_number + p.error").inner_text()
    expect(page.locator("p.muted", has_text="照片已保存在本机")).to_have_count(2)
    assert page.locator("[data-signature] + p.muted").inner_text() == "已收到签名。"
    id_field.fill(good_id)
    page.click("form[data-intake] button:not([type=button])")  # no photo chosen again
    page.wait_for_url("**/agent/outbox")

    code = _accepted_code(page, relay)
    [application] = _applications_of(edge, "覃六线")
    assert code.replace("-", "") == application["tracking_code"]
    assert len(_material_photos(edge, application["id"])) == 2
    assert len(relay.photo_puts()) == 2  # the photos went once, before the correction
    assert relay.lines.count(f"POST /agent/apply/{CODE}") == 2


def test_a_refused_photo_is_retaken_alone(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    tiny = tmp_path / "tiny.jpg"
    Image.new("RGB", (320, 240), (90, 90, 90)).save(tiny, "JPEG")  # too small to read
    photos = [tiny, camera_photo(tmp_path / "r1.jpg", 41)]
    device.set_offline(True)
    fill_intake(page, photos, "覃七线")
    device.set_offline(False)

    refused = page.locator("[data-entry][data-state=fix] li", has_text="这张照片没有被接受")
    refused.wait_for(timeout=30_000)
    assert "照片太小" in refused.inner_text()
    expect(page.locator("[data-entry] li", has_text="已送达")).to_have_count(1)  # the other
    puts_before = relay.photo_puts()
    assert len(puts_before) == 2
    refused.locator("input[type=file]").set_input_files(camera_photo(tmp_path / "r0.jpg", 40))

    code = _accepted_code(page, relay)
    [application] = _applications_of(edge, "覃七线")
    assert code.replace("-", "") == application["tracking_code"]
    assert len(_material_photos(edge, application["id"])) == 2
    retaken = relay.photo_puts()[len(puts_before) :]
    assert len(retaken) == 1 and retaken[0] not in puts_before  # only the new photo travelled
    assert relay.lines.count(f"POST /agent/apply/{CODE}") == 1


def test_background_sync_sends_the_outbox_with_no_page_open(
    device: BrowserContext, edge: EdgeNode, relay: Relay, tmp_path: Path
):
    page = device.pages[0] if device.pages else device.new_page()
    _ready_for_offline(page)
    photos = [camera_photo(tmp_path / f"b{n}.jpg", 50 + n) for n in range(2)]
    device.set_offline(True)
    fill_intake(page, photos, "覃八线")
    cdp, registration = worker_registration(device, page, relay.url)
    page.goto("about:blank")  # no page of the app runs a round from here on
    carried_before = len(relay.lines)
    device.set_offline(False)  # Chromium itself may now fire the pending sync; a dispatched
    # one then waits for that round (Web Lock) and finds nothing left to send
    sync = {"origin": relay.url, "registrationId": registration, "tag": "cunban-outbox"}
    cdp.send("ServiceWorker.dispatchSyncEvent", {**sync, "lastChance": False})
    wait_for(lambda: _applications_of(edge, "覃八线"), 60, "the worker's round")

    # the browser's own update check of the worker script (Chromium makes one around a
    # functional event such as sync) carries nothing of the device's data: not the round's
    carried = [line.split("?")[0] for line in relay.lines[carried_before:] if line != "GET /sw.js"]
    assert carried == [  # which photos arrived is asked with the session: one request
        "GET /agent/outbox/session",
        *(f"PUT /agent/outbox/photos/{sha}" for sha in relay.photo_puts()),
        f"POST /agent/apply/{CODE}",
    ]
    assert len(relay.photo_puts()) == 2
    [application] = _applications_of(edge, "覃八线")
    assert len(_material_photos(edge, application["id"])) == 2
    page.goto("/agent/outbox")
    code = _accepted_code(page, relay)
    assert code.replace("-", "") == application["tracking_code"]
