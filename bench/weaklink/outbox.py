"""The outbox half, run inside the client namespace: Chromium (a persistent profile, service
workers allowed) takes CW-004 intakes in offline and times each from going online to accepted.
JSON lines on stdout; before each going online it waits for a line on stdin (the runner's go).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Request, sync_playwright

from edge.accounts.demo_people import DEMO_PASSWORD
from tests.browser_support import CHROMIUM, FLAGS
from tests.conftest import AGENT_QIANJIANG
from tests.outbox_support import CODE, FORMS_KEPT, camera_photo, fill_intake

APPLICANT = "覃测速"
PHOTO_PUT = "/agent/outbox/photos/"
SETUP_MS = 240_000  # signing in and keeping the 42 forms over 2G
ACCEPTED_MS = 300_000
# In the page, from its start: when `online` fired, when each outbox round held the Web Lock,
# when each fetch/XHR started and ended, and when each entry's card first showed `accepted`
# (wall-clock ms, as time.time() in the runner; Playwright's own wait polls every 0.5 s).
TRACE = """(() => {
  const trace = (window.__outboxTrace = []);
  const accepted = (window.__acceptedAt = {});
  new MutationObserver(() => {
    for (const card of document.querySelectorAll("[data-entry][data-state=accepted]")) {
      accepted[card.dataset.entry] = accepted[card.dataset.entry] || Date.now();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
  const log = (what) => trace.push([Date.now(), what]);
  addEventListener("online", () => log(`online event (onLine ${navigator.onLine})`));
  addEventListener("offline", () => log(`offline event (onLine ${navigator.onLine})`));
  setInterval(() => {
    if (navigator.onLine === trace.onLine) return;
    log(`navigator.onLine ${(trace.onLine = navigator.onLine)}`);
  }, 20);
  const path = (url) => String(url).replace(/^[a-z]+:[/][/][^/]+/, "").split("?")[0];
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const what = `${(init && init.method) || "GET"} ${path(input.url || input)}`;
    log(`fetch ${what}`);
    return realFetch.apply(this, arguments).then(
      (response) => (log(`answer ${response.status} ${what}`), response),
      (error) => (log(`failed ${what}: ${error}`), Promise.reject(error)),
    );
  };
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__what = `${method} ${path(url)}`;
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    log(`xhr ${this.__what}`);
    this.upload.addEventListener("load", () => log(`xhr body sent ${this.__what}`));
    this.addEventListener("loadend", () => log(`xhr end ${this.status} ${this.__what}`));
    return send.apply(this, arguments);
  };
  if (navigator.locks) {
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (name, options, body) => {
      const run = body || options;
      const wrapped = async (lock) => {
        log(lock ? "round starts" : "round skipped (busy)");
        try { return await run(lock); } finally { if (lock) log("round ends"); }
      };
      return body ? request(name, options, wrapped) : request(name, wrapped);
    };
  }
})()"""
WAITING = """async () => (await CunbanOutbox.all())
  .filter((entry) => entry.state !== "accepted")
  .map((entry) => ({key: entry.key, photos: entry.photos.map((photo) => photo.size)}))"""


@dataclass
class Upload:
    """One intake sent from the outbox: time from going online to accepted, what the client
    side sent and received meanwhile (veth counters) and the requests Chromium made."""

    mode: str  # "clean" or "cut"
    accepted_ms: float
    up_bytes: int
    up_packets: int
    down_bytes: int
    requests: int
    photo_puts: int
    chromium_up_bytes: int  # request headers and bodies as Chromium counted them
    photo_bytes: list[int]
    post_bytes: int
    online_at: float  # time.monotonic() when it went online (one clock for all processes)
    request_starts: list[float]  # time.monotonic() of each request
    first_packet_s: float | None = None  # from going online to the veth's first frame sent
    first_answered_s: float | None = None  # from going online to the first request answered
    cut_after_bytes: int | None = None  # set by the runner
    retry_after_ms: float | None = None  # set by the runner: from the cut to the next request


@dataclass
class Seen:
    """Requests to the node between going online and accepted (pages and the worker)."""

    requests: list[Request] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    watching: bool = False

    def sent(self, request: Request) -> None:
        """Playwright callback."""
        if self.watching:
            self.requests.append(request)
            self.starts.append(time.monotonic())


def counters(device: str) -> dict[str, int]:
    """This namespace's end of the veth pair: bytes and packets each way."""
    folder = Path(f"/sys/class/net/{device}/statistics")
    names = ("tx_bytes", "tx_packets", "rx_bytes")
    return {name: int((folder / name).read_text()) for name in names}


class FrameWatch:
    """When the client's veth end sent its first frames after going online: tx_packets
    sampled every millisecond in a thread (the rig's link meter, finer)."""

    def __init__(self, device: str) -> None:
        self.counter = Path(f"/sys/class/net/{device}/statistics/tx_packets")
        self.changes: list[float] = []  # time.monotonic() of the first few increases
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        """Begin sampling."""
        self.thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self.stopped.set()
        self.thread.join()

    def _watch(self) -> None:
        last = int(self.counter.read_text())
        while not self.stopped.is_set() and len(self.changes) < 5:
            now = int(self.counter.read_text())
            if now != last:
                self.changes.append(time.monotonic())
                last = now
            time.sleep(0.001)


def page_trace(page: Page, wall_start: float) -> str:
    """The page's trace (TRACE) from going online, for the log."""
    entries = page.evaluate("window.__outboxTrace || []")
    lines = [
        f"    {at / 1000 - wall_start:6.2f} s page: {what}"
        for at, what in entries
        if at / 1000 >= wall_start - 0.5
    ]
    return "\n".join(lines)


def wait_until(page: Page, script: str, argument: object, timeout_ms: int) -> None:
    """Poll a page script until it answers true."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(script, argument):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {script[:60]}")
        time.sleep(0.2)


def ready_for_offline(page: Page) -> None:
    """Sign in through the form, wait for the worker and for it to keep the intake form."""
    page.goto("/login", timeout=SETUP_MS)
    page.fill("#phone", AGENT_QIANJIANG)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url("**/agent/", timeout=SETUP_MS)
    wait_until(page, "Boolean(navigator.serviceWorker.controller)", None, SETUP_MS)
    wait_until(page, FORMS_KEPT, f"/agent/apply/{CODE}", SETUP_MS)


def chromium_bytes(requests: list[Request]) -> int:
    """Request headers and bodies as Chromium counted them, for the requests that got an
    answer: its header size and the body's Content-Length (CDP leaves blob bodies out)."""
    return sum(_sent_bytes(request) for request in requests)


def _sent_bytes(request: Request) -> int:
    try:
        headers, sizes = request.all_headers(), request.sizes()
    except Exception:  # cut off: no answer, no sizes
        return 0
    length = headers.get("content-length")
    body = request.post_data_buffer
    counted = int(length) if length else len(body) if body else 0
    return sizes["requestHeadersSize"] + max(counted, sizes["requestBodySize"])


def _post_bytes(requests: list[Request]) -> int:
    posts = [r for r in requests if r.method == "POST" and f"/agent/apply/{CODE}" in r.url]
    body = posts[-1].post_data_buffer if posts else None
    return len(body) if body else 0


def first_answered(seen: Seen, started: float) -> float | None:
    """Seconds from going online to the start of the first request that got an answer."""
    answered = [
        start
        for request, start in zip(seen.requests, seen.starts, strict=True)
        if not request.failure
    ]
    return min(answered) - started if answered else None


def timeline(seen: Seen, started: float) -> str:
    """The requests after going online, for the log: start (s), method, path, failure."""
    lines = []
    for request, start in zip(seen.requests, seen.starts, strict=True):
        path = request.url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        failed = f" {request.failure}" if request.failure else ""
        lines.append(f"    {start - started:6.2f} s {request.method} /{path[:40]}{failed}")
    return "\n".join(lines)


def send_one(
    context: BrowserContext, page: Page, photos: list[Path], mode: str, device: str
) -> Upload:
    """Offline: fill the form; tell the runner; online: wait for accepted. The Upload."""
    seen = Seen()
    context.on("request", seen.sent)
    context.set_offline(True)
    fill_intake(page, photos, APPLICANT)
    [entry] = page.evaluate(WAITING)
    print(json.dumps({"ready": {"mode": mode, "photos": entry["photos"]}}), flush=True)
    sys.stdin.readline()  # the runner is watching the link
    before = counters(device)
    frames = FrameWatch(device)
    frames.start()
    seen.watching = True
    wall_start = time.time()
    started = time.monotonic()
    context.set_offline(False)
    lifted = time.monotonic() - started  # Playwright lifts the emulation target by target
    card = page.locator(f"[data-entry='{entry['key']}'][data-state=accepted]")
    card.wait_for(timeout=ACCEPTED_MS)
    accepted_ms = (time.monotonic() - started) * 1000
    shown = page.evaluate("(key) => window.__acceptedAt[key]", entry["key"])
    if shown:  # the card's own change, not Playwright's next poll
        accepted_ms = min(accepted_ms, shown - wall_start * 1000)
    after = counters(device)
    frames.stop()
    seen.watching = False
    context.remove_listener("request", seen.sent)
    page.evaluate("(key) => CunbanOutbox.remove(key)", entry["key"])
    print(f"    {lifted:6.2f} s set_offline(False) returned", file=sys.stderr, flush=True)
    print(timeline(seen, started), file=sys.stderr, flush=True)
    print(page_trace(page, wall_start), file=sys.stderr, flush=True)
    first_frame = frames.changes[0] - started if frames.changes else None
    frame_times = ", ".join(f"{at - started:.3f}" for at in frames.changes)
    print(f"    first frames sent at {frame_times} s", file=sys.stderr, flush=True)
    return Upload(
        mode,
        accepted_ms,
        after["tx_bytes"] - before["tx_bytes"],
        after["tx_packets"] - before["tx_packets"],
        after["rx_bytes"] - before["rx_bytes"],
        len(seen.requests),
        sum(PHOTO_PUT in r.url and r.method == "PUT" for r in seen.requests),
        chromium_bytes(seen.requests),
        entry["photos"],
        _post_bytes(seen.requests),
        started,
        seen.starts,
        first_frame,
        first_answered(seen, started),
    )


def version(context: BrowserContext, page: Page) -> str:
    """Chromium's version, from the browser or else its user agent."""
    if context.browser:
        return context.browser.version
    agent = page.evaluate("navigator.userAgent")
    return agent.split("Chrome/")[1].split()[0] if "Chrome/" in agent else agent


def main(argv: Sequence[str] | None = None) -> int:
    """Sign in once, then `--repeats` times each mode: one intake offline, sent online."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink.outbox")
    parser.add_argument("base", help="the edge node's URL")
    parser.add_argument("--device", required=True, help="this namespace's veth end")
    parser.add_argument("--modes", nargs="+", default=["clean", "cut"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="photos differ per seed")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cunban-outbox-"))
    secure = f"--unsafely-treat-insecure-origin-as-secure={args.base}"  # as over HTTPS
    try:
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                folder / "profile",
                executable_path=CHROMIUM,
                headless=True,
                args=[*FLAGS, secure],
                base_url=args.base,
                locale="zh-CN",
            )
            context.add_init_script(TRACE)
            page = context.pages[0] if context.pages else context.new_page()
            print(json.dumps({"chromium": version(context, page)}), flush=True)
            ready_for_offline(page)
            seed = args.seed
            for _ in range(args.repeats):
                for mode in args.modes:
                    photos = [camera_photo(folder / f"p{seed + n}.jpg", seed + n) for n in (0, 1)]
                    seed += 2
                    upload = send_one(context, page, photos, mode, args.device)
                    print(json.dumps({"upload": asdict(upload)}), flush=True)
            context.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
