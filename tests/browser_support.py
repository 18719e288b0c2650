"""Real Chromium for browser tests: Debian's chromium (installed when missing, never skipped),
Playwright driving it, and the real edge node (`python -m edge serve`) on loopback.

Registered as a pytest plugin in tests/conftest.py; each test module gets its own node.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Page,
    Playwright,
    sync_playwright,
)

from edge.accounts.demo_people import DEMO_PASSWORD
from tests.cluster import ROOT, free_port, wait_for
from tests.conftest import AGENT_QIANJIANG, LIANZHOU

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# machine's closed network refuses. Playwright gives each launch a fresh user-data-dir.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# edge.kernel.access_log's line: method, route template, status, time
ACCESS_LINE = re.compile(r"\b((?:GET|HEAD|POST|PUT) /\S*) \d{3} \d+ms$", re.MULTILINE)

WORKER_ACTIVATED = """() => new Promise((done, fail) => {
  setTimeout(() => fail(new Error("no active service worker after 20 s")), 20000);
  navigator.serviceWorker.ready.then((registration) => {
    const worker = registration.active;
    if (worker.state === "activated") done(worker.scriptURL);
    worker.addEventListener("statechange", () =>
      worker.state === "activated" && done(worker.scriptURL));
  });
})"""


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(argv, env=environ, capture_output=True, text=True, check=False)


def ensure_debian(program: Path, package: str) -> Path:
    """A program from Debian's packages, installed now if missing; fail (never skip) when that
    is impossible."""
    if program.exists():
        return program
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(
            f"{program} is missing and cannot be installed here (needs root and apt-get): "
            f"run `{' '.join(install)}` as root"
        )
    result = _run(install)
    if result.returncode != 0:
        _run(["apt-get", "update"])
        result = _run(install)
    if result.returncode != 0 or not program.exists():
        pytest.fail(f"could not install Debian {package}:\n{result.stdout[-1500:]}{result.stderr}")
    return program


def ensure_chromium() -> Path:
    """Debian's chromium (installed when missing)."""
    return ensure_debian(CHROMIUM, "chromium")


@dataclass
class EdgeNode:
    """The running node: its URL, the file uvicorn writes its access log to, its database."""

    url: str
    log: Path
    database: Path
    pid: int = 0  # the uvicorn process, once started

    def requests_logged(self) -> list[str]:
        """Every request the node has answered so far, as `GET /route/{template}`."""
        return ACCESS_LINE.findall(self.log.read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeNode]:
    """The real edge node with demo data on a free loopback port: plain HTTP, which browsers
    treat as a secure context on 127.0.0.1, so cookies are not marked Secure."""
    root = tmp_path_factory.mktemp("pwa-edge")
    port = free_port()
    environ = {
        **os.environ,
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": LIANZHOU,
        "CUNBAN_DATA_DIR": str(root / "edge"),
        "CUNBAN_HOST": "127.0.0.1",
        "CUNBAN_PORT": str(port),
        "CUNBAN_COOKIE_SECURE": "false",
        "CUNBAN_DEMO": "true",
        "CUNBAN_LOG_LEVEL": "info",  # the access log counts requests the browser hides
    }
    node = EdgeNode(f"http://127.0.0.1:{port}", root / "edge.log", root / "edge" / "edge.db")
    with node.log.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "edge", "serve"],
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: _answers(f"{node.url}/healthz", server), 60, "the edge node")
            yield replace(node, pid=server.pid)
        finally:
            server.terminate()
            server.wait(timeout=20)


def _answers(url: str, server: subprocess.Popen[bytes]) -> bool:
    if server.poll() is not None:
        raise AssertionError(f"the edge node exited with {server.returncode}")
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; each test opens its own context (own cache and storage)."""
    chromium = playwright.chromium.launch(
        executable_path=ensure_chromium(), headless=True, args=FLAGS
    )
    yield chromium
    chromium.close()


def agent_phone(
    playwright: Playwright, profile: Path, base_url: str, env: dict[str, str] | None = None
) -> BrowserContext:
    """A normal (not incognito) profile in a fresh user-data-dir, as an installing agent has;
    Chromium gets `env` as its environment when given."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=ensure_chromium(),
        headless=True,
        args=FLAGS,
        env=env,
        base_url=base_url,
        locale="zh-CN",
    )


@pytest.fixture
def agent_app(playwright: Playwright, edge: EdgeNode, tmp_path: Path) -> Iterator[BrowserContext]:
    """The agent's phone, talking to the node directly."""
    context = agent_phone(playwright, tmp_path / "profile", edge.url)
    yield context
    context.close()


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.fill("#phone", AGENT_QIANJIANG)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button")
    page.wait_for_url("**/agent/")


def controlled_by_the_worker(page: Page) -> str:
    """Wait for the worker to activate, reload once, and return the controller's script URL."""
    page.evaluate(WORKER_ACTIVATED)
    page.reload()
    script = page.evaluate("navigator.serviceWorker.controller?.scriptURL")
    assert script, "the page is not controlled by the service worker"
    return script


def worker_registration(context: BrowserContext, page: Page, origin: str) -> tuple[CDPSession, str]:
    """A CDP session with the ServiceWorker domain on, and the registration id of the worker
    whose scope is `origin`/ (for pushes and sync events the way Chromium delivers them)."""
    cdp = context.new_cdp_session(page)
    scopes: dict[str, str] = {}

    def updated(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if not registration["isDeleted"]:
                scopes[registration["scopeURL"]] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    for _ in range(200):  # waiting in the page lets Playwright deliver the events
        if f"{origin}/" in scopes:
            return cdp, scopes[f"{origin}/"]
        page.wait_for_timeout(50)
    raise AssertionError(f"no service worker registered for {origin}/")
