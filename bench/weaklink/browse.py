"""The browser half, run inside the client namespace: headless Debian Chromium (Playwright)
loads each page cold (fresh context, empty cache) then warm (same context, a second tab) and
prints what it measured as JSON lines on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from playwright.sync_api import Browser, BrowserContext, sync_playwright

from edge.accounts.demo_people import DEMO_PASSWORD
from tests.browser_support import CHROMIUM, FLAGS
from tests.conftest import AGENT_QIANJIANG

SIGNED_IN_PREFIX = "/agent/"
# First contentful paint (waited for, it may follow the load event), the navigation's own
# timings and every subresource that started before `load` (the critical path), all in ms from
# the navigation's start.
TIMINGS = """() => new Promise((done) => {
  const nav = performance.getEntriesByType("navigation")[0];
  const phases = {connect_start: nav.connectStart, connect_end: nav.connectEnd,
    request_start: nav.requestStart, response_start: nav.responseStart,
    response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventStart,
    html_bytes: nav.transferSize};
  const early = performance.getEntriesByType("resource")
    .filter((entry) => entry.startTime < nav.loadEventStart)
    .map((entry) => [new URL(entry.name).pathname, entry.startTime, entry.responseEnd]);
  const report = (paint) => done({fcp_ms: paint ? paint.startTime : null,
    load_ms: nav.loadEventStart, ttfb_ms: nav.responseStart, phases, before_load: early});
  const painted = () => performance.getEntriesByName("first-contentful-paint")[0];
  if (painted()) return report(painted());
  new PerformanceObserver(() => painted() && report(painted()))
    .observe({type: "paint", buffered: true});
  setTimeout(() => report(painted()), 10000);
})"""


@dataclass
class Load:
    """One page load: paint and load times, and what came over the network for it."""

    path: str
    visit: str  # "cold" or "warm"
    fcp_ms: float | None
    load_ms: float
    ttfb_ms: float
    wire_bytes: int
    requests: int
    cached: int
    # the navigation's own timings (ms from its start): connect_start, connect_end,
    # request_start, response_start, response_end, dom_content_loaded; and html_bytes, the
    # page's own bytes on the wire (headers and encoded body, Chromium's transferSize)
    phases: dict[str, float] = field(default_factory=dict)
    # subresources started before `load`: (path, start, end) in ms from the navigation's start
    before_load: list[tuple[str, float, float]] = field(default_factory=list)


@dataclass
class Wire:
    """Network.loadingFinished of one tab: bytes received per request (headers and
    encoded body; 0 when the cache answered)."""

    sizes: list[int] = field(default_factory=list)

    def finished(self, event: dict[str, float]) -> None:
        """CDP callback."""
        self.sizes.append(int(event["encodedDataLength"]))


def load(context: BrowserContext, path: str, visit: str) -> Load:
    """Open `path` in a new tab, wait for load and network quiet, and measure it."""
    page = context.new_page()
    wire = Wire()
    cdp = context.new_cdp_session(page)
    cdp.on("Network.loadingFinished", wire.finished)
    cdp.send("Network.enable")
    response = page.goto(path, wait_until="load", timeout=120_000)
    if response is None or not response.ok:
        raise RuntimeError(f"{path}: {response.status if response else 'no response'}")
    timings = page.evaluate(TIMINGS)
    page.wait_for_load_state("networkidle", timeout=120_000)
    page.close()
    on_wire = [size for size in wire.sizes if size > 0]
    return Load(
        path,
        visit,
        timings["fcp_ms"],
        timings["load_ms"],
        timings["ttfb_ms"],
        sum(on_wire),
        len(on_wire),
        len(wire.sizes) - len(on_wire),
        timings["phases"],
        [tuple(entry) for entry in timings["before_load"]],
    )


def sign_in(context: BrowserContext) -> None:
    """The demo agent signs in through the form's own POST, outside the browser's cache: the
    context gets the session cookie and nothing else."""
    context.request.get("/login")  # signed out, the form has no token: its visitor cookie counts
    data = {"phone": AGENT_QIANJIANG, "password": DEMO_PASSWORD}
    answer = context.request.post("/login", form={**data, "next": ""}, max_redirects=0)
    if answer.status != 303 or not answer.headers["location"].endswith(SIGNED_IN_PREFIX):
        raise RuntimeError(f"sign-in failed: {answer.status} {answer.headers}")


def cold_and_warm(browser: Browser, base: str, path: str) -> list[Load]:
    """A cold then a warm load of `path` in one fresh context (signed in for agent pages)."""
    context = browser.new_context(base_url=base, locale="zh-CN", service_workers="block")
    try:
        if path.startswith(SIGNED_IN_PREFIX):
            sign_in(context)
        return [load(context, path, "cold"), load(context, path, "warm")]
    finally:
        context.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every page `--repeats` times; on stdout one JSON object with the browser's
    version, then one per load."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink.browse")
    parser.add_argument("base", help="the edge node's URL")
    parser.add_argument("paths", nargs="+", help="pages to load")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    secure = f"--unsafely-treat-insecure-origin-as-secure={args.base}"  # as over HTTPS
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*FLAGS, secure]
        )
        print(json.dumps({"chromium": browser.version}), flush=True)
        for path in args.paths:
            for _ in range(args.repeats):
                for measured in cold_and_warm(browser, args.base, path):
                    print(json.dumps(asdict(measured)), flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
