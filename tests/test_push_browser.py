"""Web push in real Chromium: the service worker shows what the node sends (CDP delivers it),
a click opens this site's pages only (through a stand-in desktop notification server on a
private D-Bus), and the "开启通知" button where Chromium's push service is out of reach."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import sqlite3
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
)
from ulid import ULID

from edge.push.messages import decision
from tests.browser_support import (
    WORKER_ACTIVATED,
    EdgeNode,
    agent_phone,
    ensure_debian,
    sign_in,
    worker_registration,
)
from tests.cluster import wait_for

# --- a stand-in desktop notification server ----------------------------------------------
# Chromium on Linux shows web notifications through org.freedesktop.Notifications on the
# session D-Bus when something owns that name, and takes its ActionInvoked(id, "default")
# signal for the user's click: the service worker then gets a real, trusted notificationclick.
# Below is just enough of the D-Bus wire protocol (little-endian) to be that server.

CALL, RETURN, ERROR, SIGNAL = 1, 2, 3, 4
PATH, INTERFACE, MEMBER, ERROR_NAME, REPLY_SERIAL, DESTINATION, SENDER, SIGNATURE = range(1, 9)
FIELD_TYPES = {
    PATH: "o",
    INTERFACE: "s",
    MEMBER: "s",
    ERROR_NAME: "s",
    REPLY_SERIAL: "u",
    DESTINATION: "s",
    SENDER: "s",
    SIGNATURE: "g",
}
DBUS_DAEMON = Path("/usr/bin/dbus-daemon")
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
BUS = {
    DESTINATION: "org.freedesktop.DBus",
    PATH: "/org/freedesktop/DBus",
    INTERFACE: "org.freedesktop.DBus",
}
# No <servicedir>: nothing is started on demand (Chromium asks for the accessibility bus).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _types(signature: str) -> list[str]:
    """The complete types of a signature, as far as this server needs them (`as` and basics)."""
    return re.findall(r"as|.", signature)


class _Writer:
    """Marshals values, aligned from the start of the message (the body starts 8-aligned)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def align(self, size: int) -> None:
        self.data += b"\0" * (-len(self.data) % size)

    def u32(self, value: int) -> None:
        self.align(4)
        self.data += struct.pack("<I", value)

    def string(self, value: str, size_bytes: int = 4) -> None:
        raw = value.encode()
        if size_bytes == 4:
            self.u32(len(raw))
        else:
            self.data.append(len(raw))
        self.data += raw + b"\0"

    def value(self, kind: str, value: Any) -> None:
        if kind == "as":
            self.u32(0)
            start = len(self.data)
            for item in value:
                self.string(item)
            struct.pack_into("<I", self.data, start - 4, len(self.data) - start)
        elif kind == "u":
            self.u32(value)
        else:
            self.string(value, 1 if kind == "g" else 4)


class _Reader:
    def __init__(self, data: bytes, position: int) -> None:
        self.data, self.position = data, position

    def u32(self) -> int:
        self.position += -self.position % 4 + 4
        return struct.unpack_from("<I", self.data, self.position - 4)[0]

    def string(self, size_bytes: int = 4) -> str:
        if size_bytes == 4:
            size = self.u32()
        else:
            size = self.data[self.position]
            self.position += 1
        self.position += size + 1
        return self.data[self.position - size - 1 : self.position - 1].decode()

    def value(self, kind: str) -> Any:
        return self.u32() if kind == "u" else self.string(1 if kind == "g" else 4)


def _encode(kind: int, serial: int, fields: dict[int, Any], signature: str, args: list) -> bytes:
    body = _Writer()
    for type_, arg in zip(_types(signature), args, strict=True):
        body.value(type_, arg)
    message = _Writer()
    message.data += bytes([ord("l"), kind, 0, 1])
    for number in (len(body.data), serial, 0):  # the last: the header fields' size, below
        message.u32(number)
    for code, value in {**fields, **({SIGNATURE: signature} if signature else {})}.items():
        message.align(8)
        message.data += bytes([code])
        message.string(FIELD_TYPES[code], 1)
        message.value(FIELD_TYPES[code], value)
    struct.pack_into("<I", message.data, 12, len(message.data) - 16)
    message.align(8)
    return bytes(message.data + body.data)


@dataclass
class _Message:
    kind: int
    serial: int
    fields: dict[int, Any]
    data: bytes
    body_at: int

    def args(self, count: int) -> list[Any]:
        reader = _Reader(self.data, self.body_at)
        return [reader.value(kind) for kind in _types(self.fields.get(SIGNATURE, ""))[:count]]


def _receive(stream: BinaryIO) -> _Message:
    fixed = stream.read(16)
    if len(fixed) < 16:
        raise EOFError
    assert fixed[:1] == b"l", "a big-endian D-Bus message"
    body_size, serial, fields_size = struct.unpack_from("<III", fixed, 4)
    body_at = 16 + fields_size + -(16 + fields_size) % 8
    data = fixed + stream.read(body_at - 16 + body_size)
    reader, fields = _Reader(data, 16), {}
    while reader.position < 16 + fields_size:
        reader.position += -reader.position % 8
        code = data[reader.position]
        reader.position += 1
        fields[code] = reader.value(reader.string(1))
    return _Message(fixed[1], serial, fields, data, body_at)


@dataclass
class Shown:
    """A notification Chromium handed to the desktop."""

    number: int
    title: str
    body: str
    closed: bool = False


class Desktop:
    """org.freedesktop.Notifications on the bus at `socket_path`: records what Chromium shows
    and closes, and clicks a notification as a user would."""

    def __init__(self, socket_path: Path) -> None:
        self.address = f"unix:path={socket_path}"  # for DBUS_SESSION_BUS_ADDRESS
        self.shown: list[Shown] = []
        self._serial = 0
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_UNIX)
        self._socket.connect(str(socket_path))
        self._stream = self._socket.makefile("rb")
        self._authenticate()
        self._call("Hello", "", [])
        self._call("RequestName", "su", [NOTIFICATIONS, 4])  # 4: do not queue
        self._serving = threading.Thread(target=self._serve, daemon=True)
        self._serving.start()

    def click(self, shown: Shown) -> None:
        self._send(SIGNAL, self._ours("ActionInvoked"), "us", [shown.number, "default"])

    def next_shown(self, after: int) -> Shown:
        """The first notification shown after the first `after` ones (waits for it)."""
        wait_for(lambda: len(self.shown) > after, 10, "a notification on the desktop")
        return self.shown[after]

    def wait_closed(self, shown: Shown) -> None:
        wait_for(lambda: shown.closed, 10, f"notification {shown.number} closed by Chromium")

    def close(self) -> None:
        self._socket.shutdown(socket.SHUT_RDWR)
        self._serving.join(timeout=10)
        self._stream.close()
        self._socket.close()

    def _authenticate(self) -> None:
        uid = str(os.getuid()).encode().hex()
        self._socket.sendall(f"\0AUTH EXTERNAL {uid}\r\n".encode())
        assert self._stream.readline().startswith(b"OK"), "the bus refused the desktop"
        self._socket.sendall(b"BEGIN\r\n")

    def _send(self, kind: int, fields: dict[int, Any], signature: str, args: list) -> int:
        with self._lock:
            self._serial += 1
            self._socket.sendall(_encode(kind, self._serial, fields, signature, args))
            return self._serial

    def _call(self, member: str, signature: str, args: list) -> None:
        serial = self._send(CALL, {**BUS, MEMBER: member}, signature, args)
        while (reply := _receive(self._stream)).fields.get(REPLY_SERIAL) != serial:
            pass  # signals from the bus (NameAcquired) before the reply
        assert reply.kind == RETURN, reply.fields

    def _ours(self, member: str) -> dict[int, Any]:
        return {PATH: NOTIFICATIONS_PATH, INTERFACE: NOTIFICATIONS, MEMBER: member}

    def _serve(self) -> None:
        while True:
            try:
                message = _receive(self._stream)
            except (EOFError, OSError, ValueError):
                return
            if message.kind == CALL:
                self._answer(message)

    def _reply(self, call: _Message, signature: str = "", args: list | None = None) -> None:
        fields = {REPLY_SERIAL: call.serial, DESTINATION: call.fields[SENDER]}
        self._send(RETURN, fields, signature, args or [])

    def _answer(self, call: _Message) -> None:
        member = call.fields.get(MEMBER)
        if member == "GetCapabilities":
            self._reply(call, "as", [["actions", "body"]])
        elif member == "GetServerInformation":
            self._reply(call, "ssss", ["cunban-tests", "cunban", "1", "1.2"])
        elif member == "Notify":  # app name, replaces id, icon, title, body, ...
            _app, _replaces, _icon, title, body = call.args(5)
            self.shown.append(Shown(len(self.shown) + 1, title, body))
            self._reply(call, "u", [len(self.shown)])
        elif member == "CloseNotification":
            (number,) = call.args(1)
            self.shown[number - 1].closed = True
            self._reply(call)
            self._send(SIGNAL, self._ours("NotificationClosed"), "uu", [number, 3])
        else:
            fields = {REPLY_SERIAL: call.serial, DESTINATION: call.fields[SENDER]}
            fields[ERROR_NAME] = "org.freedesktop.DBus.Error.UnknownMethod"
            self._send(ERROR, fields, "", [])


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    """The stand-in notification server, on a private session bus of its own."""
    daemon = str(ensure_debian(DBUS_DAEMON, "dbus-daemon"))
    root = tmp_path_factory.mktemp("bus")  # short: a socket path has at most 107 bytes
    config = root / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=root / "socket"), encoding="utf-8")
    with (root / "bus.log").open("wb") as log:
        bus = subprocess.Popen(
            [daemon, "--nofork", "--print-address", f"--config-file={config}"],
            stdout=subprocess.PIPE,
            stderr=log,
        )
    try:
        with bus.stdout:  # the address is printed once the bus listens
            assert bus.stdout.readline().startswith(b"unix:"), "dbus-daemon did not start"
        server = Desktop(root / "socket")
        yield server
        server.close()
    finally:
        bus.terminate()
        bus.wait(timeout=10)


# --- the agent's app and the worker ---------------------------------------------------------


@pytest.fixture
def app(
    playwright: Playwright, edge: EdgeNode, desktop: Desktop, tmp_path: Path
) -> Iterator[BrowserContext]:
    """The installed agent app (a persistent profile) whose notifications reach `desktop`."""
    environ = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": desktop.address}
    context = agent_phone(playwright, tmp_path / "profile", edge.url, environ)
    yield context
    context.close()


def _first_page(context: BrowserContext) -> Page:
    return context.pages[0] if context.pages else context.new_page()


def _signed_in(context: BrowserContext) -> Page:
    """The agent signed in, the page controlled by an activated service worker."""
    page = _first_page(context)
    sign_in(page)
    page.evaluate(WORKER_ACTIVATED)
    return page


@dataclass
class Pusher:
    """Delivers push messages to the agent's active worker as Chromium does when one arrives
    (CDP), and waits until the worker's notification is on the desktop."""

    cdp: CDPSession
    registration: str
    origin: str
    desktop: Desktop

    def push(self, data: str) -> Shown:
        before = len(self.desktop.shown)
        message = {"origin": self.origin, "registrationId": self.registration, "data": data}
        self.cdp.send("ServiceWorker.deliverPushMessage", message)
        return self.desktop.next_shown(before)


def _pusher(context: BrowserContext, page: Page, edge: EdgeNode, desktop: Desktop) -> Pusher:
    """A CDP session with the ServiceWorker domain on, aimed at our registration."""
    cdp, registration = worker_registration(context, page, edge.url)
    return Pusher(cdp, registration, edge.url, desktop)


# Ask only once the desktop has the notification: asked while Chromium is still handing it
# over, Chromium drops it from its own records as "no longer displayed".
NOTIFICATIONS_SHOWN = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map((n) => ({title: n.title, body: n.body, url: n.data.url}));
}"""


def _as_the_outbox_keeps_it(payload: dict[str, str]) -> str:
    return json.dumps(payload, ensure_ascii=False)  # as edge.push.queries.enqueue stores it


def _returned() -> dict[str, str]:
    """What the node sends the agent when an application is returned for correction."""
    # the fields of an Application record the message reads
    application = SimpleNamespace(
        id=str(ULID()), applicant_name="潘桂兰", item_name_zh="最低生活保障"
    )
    return decision(application, "returned")


def test_the_worker_shows_what_the_node_sends(
    app: BrowserContext, edge: EdgeNode, desktop: Desktop
):
    app.grant_permissions(["notifications"])
    page = _signed_in(app)
    payload = _returned()
    on_screen = _pusher(app, page, edge, desktop).push(_as_the_outbox_keeps_it(payload))
    assert page.evaluate(NOTIFICATIONS_SHOWN) == [payload]
    assert on_screen.title == payload["title"] == "申请被退回补正"
    assert on_screen.body.endswith(payload["body"]) and "潘桂兰" not in on_screen.body


# What a push leaves out, the worker fills in: the site's host as title, no body, the home page.
PARTIAL = [
    ("", None, "", "/"),  # a push without a payload
    ("{}", None, "", "/"),
    ('{"title": "只有标题"}', "只有标题", "", "/"),
    ('{"body": "只有正文", "url": "/agent/"}', None, "只有正文", "/agent/"),
]


def test_the_worker_fills_in_what_a_push_leaves_out(
    app: BrowserContext, edge: EdgeNode, desktop: Desktop
):
    app.grant_permissions(["notifications"])
    page = _signed_in(app)
    pusher, host = _pusher(app, page, edge, desktop), urlsplit(edge.url).netloc
    on_screen = [pusher.push(data).title for data, *_ in PARTIAL]
    expected = [{"title": t or host, "body": b, "url": u} for _, t, b, u in PARTIAL]
    assert page.evaluate(NOTIFICATIONS_SHOWN) == expected
    assert on_screen == [shown["title"] for shown in expected]


NOT_ENABLED = "通知没有开启，可以稍后再试；短信提醒照常发送。"
SUBSCRIBE_TIMEOUT_MS = 15_000  # static/js/pwa.js
FOREIGN = ["https://example.org/agent/", "//example.org/agent/", "javascript:alert(1)"]


def test_a_click_opens_the_page_on_this_site_only(
    app: BrowserContext, edge: EdgeNode, desktop: Desktop
):
    app.grant_permissions(["notifications"])
    page = _signed_in(app)
    pusher = _pusher(app, page, edge, desktop)
    opened: list[Page] = []
    app.on("page", lambda page: opened.append(page))
    for url in FOREIGN:  # the handler ran (it closes what was clicked) and opened nothing
        shown = pusher.push(json.dumps({"title": url, "body": "", "url": url}))
        desktop.click(shown)
        desktop.wait_closed(shown)
    payload = _returned()
    shown = pusher.push(_as_the_outbox_keeps_it(payload))
    desktop.click(shown)  # the app's open window goes to the page; no second window
    page.wait_for_url(edge.url + payload["url"])
    assert opened == []
    desktop.wait_closed(shown)


# --- the "开启通知" button -----------------------------------------------------------------


def test_the_button_shows_only_where_push_works(
    agent_app: BrowserContext, browser: Browser, edge: EdgeNode
):
    page = _first_page(agent_app)
    sign_in(page)
    expect(page.locator("#push-enable")).to_be_visible()
    expect(page.locator("#push-enable")).to_have_text("开启通知")
    without_js = browser.new_context(base_url=edge.url, locale="zh-CN", java_script_enabled=False)
    try:
        plain = without_js.new_page()
        sign_in(plain)
        assert plain.get_attribute("#push-enable", "hidden") == ""
        expect(plain.locator("#push-enable")).to_be_hidden()
    finally:
        without_js.close()


def _subscriptions(edge: EdgeNode) -> int:
    """Rows in the node's push_subscriptions table (read-only)."""
    with closing(sqlite3.connect(f"file:{edge.database}?mode=ro", uri=True)) as db:
        return db.execute("SELECT count(*) FROM push_subscriptions").fetchone()[0]


def _still_offered(page: Page, timeout: float = 5_000) -> None:
    """The failure is said beside the button, which can be pressed again."""
    button = page.locator("#push-enable")
    expect(button).to_be_enabled(timeout=timeout)
    expect(button).to_be_visible()
    expect(button).to_have_text("开启通知")
    expect(page.locator("#push-status")).to_have_text(NOT_ENABLED)


def _warned(message: ConsoleMessage) -> bool:
    return message.type == "warning" and message.text.startswith("push not enabled:")


def _click_denied(page: Page, edge: EdgeNode) -> None:
    """Headless Chromium answers the permission prompt "denied": nothing more is asked."""
    logged = len(edge.requests_logged())
    page.click("#push-enable")
    page.wait_for_function("Notification.permission === 'denied'")
    page.wait_for_timeout(300)
    assert "GET /push/key" not in edge.requests_logged()[logged:]
    _still_offered(page)


def _click_offline(context: BrowserContext, page: Page) -> None:
    """The key cannot be fetched: each click fails (in the console only) and can be retried."""
    context.set_offline(True)
    try:
        for _ in range(2):
            with page.expect_console_message(_warned):
                page.click("#push-enable")
            _still_offered(page)
    finally:
        context.set_offline(False)


def _click_without_push_service(page: Page, edge: EdgeNode) -> None:
    """Online, Chromium's pushManager.subscribe() waits for Google's push service for ever."""
    logged = len(edge.requests_logged())
    with page.expect_response("**/push/key") as key:
        page.click("#push-enable")
    assert key.value.ok
    expect(page.locator("#push-enable")).to_be_disabled()  # waiting for the push service
    _still_offered(page, timeout=SUBSCRIBE_TIMEOUT_MS + 5_000)  # pwa.js gives up, says so
    assert page.evaluate(SUBSCRIPTION) is None
    assert "POST /push/subscriptions" not in edge.requests_logged()[logged:]


SUBSCRIPTION = "navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription())"
# What pwa.js would post, had a push service given Chromium a subscription: a positive control
# for the "nothing recorded" check, and a check of the button's CSRF token.
POST_LIKE_THE_BUTTON = """async (subscription) => {
  const button = document.getElementById("push-enable");
  const response = await fetch("/push/subscriptions", {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": button.dataset.csrf},
    body: JSON.stringify(subscription),
  });
  return response.status;
}"""


def _a_subscription() -> dict[str, Any]:
    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    keys = {"p256dh": b64url(b"\x04" + os.urandom(64)), "auth": b64url(os.urandom(16))}
    return {"endpoint": f"https://push.example.org/{ULID()}", "keys": keys}


def test_the_button_leaves_no_trace_when_push_cannot_be_enabled(
    agent_app: BrowserContext, edge: EdgeNode
):
    page = _first_page(agent_app)
    sign_in(page)
    rows = _subscriptions(edge)
    _click_denied(page, edge)
    agent_app.grant_permissions(["notifications"])
    _click_offline(agent_app, page)
    _click_without_push_service(page, edge)
    assert _subscriptions(edge) == rows
    assert page.evaluate(POST_LIKE_THE_BUTTON, _a_subscription()) == 204
    assert _subscriptions(edge) == rows + 1
