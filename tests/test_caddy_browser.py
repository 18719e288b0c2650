"""Caddy for real (Debian `caddy`, `tls internal`) in front of a real edge node on loopback,
with the site block deploy/install writes: HTTPS over HTTP/2 with HTTP/3 offered, HSTS,
Caddy's own compression, http:// redirected, Secure cookies, and the agent app's service
worker registering in Chromium that trusts Caddy's local CA (an NSS database, as a township
installs the root on its agents' phones)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from deploy import caddyfile
from tests.browser_support import agent_phone, controlled_by_the_worker, ensure_debian, sign_in
from tests.cluster import ROOT, free_port, wait_for
from tests.conftest import LIANZHOU

CADDY = Path("/usr/bin/caddy")
CERTUTIL = Path("/usr/bin/certutil")


@dataclass
class Site:
    https: str
    http: str
    root_ca: Path
    home: Path


def _curl(*args: str) -> str:
    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-D", "-", *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.replace("\r\n", "\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    caddy = ensure_debian(CADDY, "caddy")
    root = tmp_path_factory.mktemp("caddy")
    web, http_port, https_port = free_port(), free_port(), free_port()
    environ = {
        **os.environ,
        "CUNBAN_NODE_ID": "lianzhou",
        "CUNBAN_TOWNSHIP_CODE": LIANZHOU,
        "CUNBAN_DATA_DIR": str(root / "edge"),
        "CUNBAN_HOST": "127.0.0.1",
        "CUNBAN_PORT": str(web),
        "CUNBAN_BASE_URL": f"https://127.0.0.1:{https_port}",
        # CUNBAN_COOKIE_SECURE not set (false): cookies are Secure because Caddy, a trusted
        # proxy on loopback (the default CUNBAN_TRUSTED_PROXIES), says X-Forwarded-Proto https
        "CUNBAN_DEMO": "true",
    }
    environ.pop("CUNBAN_COOKIE_SECURE", None)
    # deploy/install's files, with the test's ports and storage in the global options
    config = root / "etc"
    (config / "cunban").mkdir(parents=True)
    main = caddyfile.main_file().replace(
        "{\n",
        "{\n\tadmin off\n\tskip_install_trust\n"
        f"\thttp_port {http_port}\n\thttps_port {https_port}\n"
        f"\tstorage file_system {root / 'storage'}\n",
        1,
    )
    (config / "Caddyfile").write_text(main)
    (config / "cunban/lianzhou.caddy").write_text(
        caddyfile.site("lianzhou", "127.0.0.1", f"127.0.0.1:{web}", caddyfile.Tls("internal"))
    )
    home = root / "home"
    home.mkdir()
    caddy_env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    with (root / "edge.log").open("wb") as edge_log, (root / "caddy.log").open("wb") as log:
        edge = subprocess.Popen(
            [sys.executable, "-m", "edge", "serve"], cwd=ROOT, env=environ, stdout=edge_log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        proxy = subprocess.Popen(
            [str(caddy), "run", "--adapter", "caddyfile", "--config", str(config / "Caddyfile")],
            env=caddy_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            root_ca = root / "storage/pki/authorities/local/root.crt"
            url = f"https://127.0.0.1:{https_port}"

            def up() -> bool:
                assert proxy.poll() is None, (root / "caddy.log").read_text()[-2000:]
                assert edge.poll() is None, (root / "edge.log").read_text()[-2000:]
                if not root_ca.exists():
                    return False
                return _curl("--cacert", str(root_ca), f"{url}/healthz").startswith("HTTP/2 200")

            wait_for(up, 90, "Caddy in front of the edge node", every=0.5)
            yield Site(url, f"http://127.0.0.1:{http_port}", root_ca, home)
        finally:
            proxy.terminate()
            edge.terminate()
            proxy.wait(timeout=20)
            edge.wait(timeout=20)


def test_https_with_hsts_http2_offering_http3_and_caddys_compression(site):
    headers = _curl("--http2", "--cacert", str(site.root_ca), "-H", "Accept-Encoding: zstd",
                    f"{site.https}/services")  # fmt: skip
    assert headers.startswith("HTTP/2 200")
    lowered = headers.lower()
    assert "strict-transport-security: max-age=31536000" in lowered
    assert "content-encoding: zstd" in lowered  # the app gives br/gzip only: this is Caddy
    assert f'alt-svc: h3=":{site.https.rsplit(":", 1)[1]}"' in lowered
    assert "\nserver:" not in lowered
    gzip = _curl("--cacert", str(site.root_ca), "-H", "Accept-Encoding: gzip", site.https + "/")
    assert "content-encoding: gzip" in gzip.lower()
    untrusted = subprocess.run(["curl", "-sS", site.https], capture_output=True, text=True)
    assert untrusted.returncode != 0  # Caddy's local CA is trusted only where installed


def test_plain_http_redirects_to_https(site):
    headers = _curl(f"{site.http}/track?x=1")
    assert headers.startswith("HTTP/1.1 308")
    location = next(line for line in headers.splitlines() if line.lower().startswith("location:"))
    # same host, path and query over https (Caddy 2.6 names no port in the redirect: 443 on a
    # real node; the test's HTTPS port is a free one)
    assert location.split(" ", 1)[1] == "https://127.0.0.1/track?x=1"


def test_service_worker_registers_and_cookies_are_secure_in_chromium(
    site, playwright: Playwright, tmp_path
):
    ensure_debian(CERTUTIL, "libnss3-tools")
    nssdb = site.home / ".pki/nssdb"
    if not nssdb.exists():
        nssdb.mkdir(parents=True)
        subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "cunban-local-ca", "-t", "C,,",
             "-i", str(site.root_ca)],
            check=True,
        )  # fmt: skip
    context = agent_phone(
        playwright, tmp_path / "profile", site.https, env={**os.environ, "HOME": str(site.home)}
    )
    try:
        page = context.new_page()
        answer = page.goto("/login")  # fails with a certificate error unless the CA is trusted
        assert answer is not None and answer.status == 200
        sign_in(page)
        assert controlled_by_the_worker(page) == f"{site.https}/sw.js"
        assert page.evaluate("window.isSecureContext") is True
        cookies = context.cookies(site.https)
        assert cookies and all(cookie["secure"] for cookie in cookies)
        assert "cb_session" in {cookie["name"] for cookie in cookies}
    finally:
        context.close()
