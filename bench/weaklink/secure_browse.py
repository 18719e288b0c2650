"""The browser half of the Caddy runs, inside the client namespace: headless Debian Chromium
loads each page cold (fresh context, no connection, empty cache) then warm (a second tab in
the same context), plain HTTP to the node, HTTPS through Caddy over TCP, or over QUIC; each
load's protocol, timings and bytes (the document's and the link's) as JSON lines on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, sync_playwright

from bench.weaklink.browse import TIMINGS
from tests.browser_support import CHROMIUM, FLAGS

MODES = ["plain", "tls", "h3", "alt-svc"]


@dataclass
class SecureLoad:
    """One page load: how it went over the wire and what it cost."""

    path: str
    mode: str
    visit: str  # "cold", "warm", or "learn" (the visit before a cold one in alt-svc mode)
    protocol: str  # the document's: "http/1.1", "h2", "h3"
    tls: str  # the document's connection: "TLS 1.3", "QUIC", or "" for plain HTTP
    fcp_ms: float | None
    load_ms: float
    ttfb_ms: float
    connect_ms: float  # TCP + TLS, or QUIC, handshake of the document's connection; 0 reused
    document_bytes: int  # headers and encoded body of the document as Chromium counted them
    wire_bytes: int
    requests: int
    link_bytes: int  # frames the client's veth end received during the visit
    body_sha256: str


@dataclass
class Watch:
    """CDP events of one tab: the document's response and every finished request."""

    document: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def responded(self, event: dict[str, Any]) -> None:
        """Network.responseReceived: keep the document's."""
        if event.get("type") == "Document" and not self.document:
            self.document = {"id": event["requestId"], **event["response"]}

    def finished(self, event: dict[str, Any]) -> None:
        """Network.loadingFinished."""
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])


def _rx_bytes(device: str) -> int:
    return int(Path(f"/sys/class/net/{device}/statistics/rx_bytes").read_text())


def _connect_ms(timing: dict[str, float] | None) -> float:
    if not timing or timing.get("connectStart", -1) < 0:
        return 0.0
    return timing["connectEnd"] - timing["connectStart"]


def load(context: BrowserContext, path: str, mode: str, visit: str, device: str) -> SecureLoad:
    """Open `path` in a new tab, wait for load and network quiet, and measure it."""
    page = context.new_page()
    watch = Watch()
    cdp = context.new_cdp_session(page)
    cdp.on("Network.responseReceived", watch.responded)
    cdp.on("Network.loadingFinished", watch.finished)
    cdp.send("Network.enable")
    before = _rx_bytes(device)
    response = page.goto(path, wait_until="load", timeout=120_000)
    if response is None or not response.ok:
        raise RuntimeError(f"{path}: {response.status if response else 'no response'}")
    timings = page.evaluate(TIMINGS)
    page.wait_for_load_state("networkidle", timeout=120_000)
    link = _rx_bytes(device) - before
    body = response.body()
    page.close()
    document = watch.document
    on_wire = [size for size in watch.sizes.values() if size > 0]
    return SecureLoad(
        path,
        mode,
        visit,
        document.get("protocol", ""),
        (document.get("securityDetails") or {}).get("protocol", ""),
        timings["fcp_ms"],
        timings["load_ms"],
        timings["ttfb_ms"],
        _connect_ms(document.get("timing")),
        watch.sizes.get(document.get("id", ""), 0),
        sum(on_wire),
        len(on_wire),
        link,
        hashlib.sha256(body).hexdigest(),
    )


def flags(mode: str, base: str, spki: Sequence[str]) -> list[str]:
    """Chromium's flags for a mode: QUIC off except for `h3` (forced on the node's origin,
    its chain's keys accepted) and `alt-svc` (learned from Caddy's Alt-Svc header)."""
    if mode == "plain":
        return [*FLAGS, f"--unsafely-treat-insecure-origin-as-secure={base}"]
    if mode == "tls":
        return list(FLAGS)
    quic = [flag for flag in FLAGS if flag != "--disable-quic"] + ["--enable-quic"]
    if mode == "alt-svc":
        return quic
    origin = base.removeprefix("https://")
    return [
        *quic,
        f"--origin-to-force-quic-on={origin}:443",
        f"--ignore-certificate-errors-spki-list={','.join(spki)}",
    ]


def forget_connections_and_cache(context: BrowserContext) -> None:
    """Close every TCP connection of this namespace to port 443 (`ss -K`: Chromium sees them
    aborted) and empty the context's HTTP cache: the next visit is cold again, but the
    context keeps what it learned from Alt-Svc."""
    kill = ["ss", "-K", "state", "established", "dport", "=", ":443"]
    subprocess.run(kill, capture_output=True, check=False)
    page = context.new_page()
    context.new_cdp_session(page).send("Network.clearBrowserCache")
    page.close()


def cold_and_warm(
    browser: Browser, base: str, path: str, mode: str, device: str
) -> list[SecureLoad]:
    """A cold then a warm load of `path` in one fresh context; in `alt-svc` mode a first
    visit (`learn`) before, then its connection and cache dropped."""
    context = browser.new_context(base_url=base, locale="zh-CN", service_workers="block")
    try:
        learned = []
        if mode == "alt-svc":
            learned = [load(context, path, mode, "learn", device)]
            forget_connections_and_cache(context)
        cold = load(context, path, mode, "cold", device)
        return [*learned, cold, load(context, path, mode, "warm", device)]
    finally:
        context.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every page `--repeats` times in one mode; on stdout one JSON object with the
    browser's version, then one per load."""
    parser = argparse.ArgumentParser(prog="python -m bench.weaklink.secure_browse")
    parser.add_argument("base", help="the node's URL (plain) or Caddy's (https)")
    parser.add_argument("paths", nargs="+", help="pages to load")
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--device", required=True, help="the client's veth end")
    parser.add_argument("--home", help="HOME for Chromium (its NSS database trusts Caddy's CA)")
    parser.add_argument("--spki", nargs="*", default=[], help="keys of the served chain (h3)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    environ = {**os.environ, "HOME": args.home} if args.home else None
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=flags(args.mode, args.base, args.spki),
            env=environ,
        )
        print(json.dumps({"chromium": browser.version}), flush=True)
        for path in args.paths:
            for _ in range(args.repeats):
                for measured in cold_and_warm(browser, args.base, path, args.mode, args.device):
                    print(json.dumps(asdict(measured)), flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
