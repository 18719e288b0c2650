"""The node behind a trusted proxy (CUNBAN_TRUSTED_PROXIES): from such a peer the scheme and the
client's address are the ones X-Forwarded-Proto / X-Forwarded-For name, so cookies are Secure
and HSTS is sent over HTTPS without CUNBAN_COOKIE_SECURE, and the per-address sign-in limit
counts the real client; from any other peer the same headers are ignored."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from starlette.applications import Starlette

from central.app import create_app as create_central
from central.settings import CentralSettings
from edge.accounts.demo_people import DEMO_PASSWORD
from edge.app import create_app
from edge.kernel.auth import sources
from edge.kernel.settings import WebSettings
from edge.settings import Settings
from replication.store_config import StoreSettings
from tests.central_support import NODES
from tests.conftest import STAFF, prepare
from tests.test_central_officer import CIVIL_HEPU
from tests.test_lockout import serving

PROXY, CLIENT, OTHER, ATTACKER = "10.9.0.1", "203.0.113.9", "203.0.113.10", "10.20.0.66"
FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"}
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}  # a browser posting from our own page


def _behind(settings: Settings, proxies: str) -> Settings:
    web = dataclasses.replace(settings.web, trusted_proxies=proxies, cookie_secure=False)
    return dataclasses.replace(settings, web=web)


def _app(settings: Settings, clock, proxies: str = PROXY) -> Starlette:
    behind = _behind(settings, proxies)
    asyncio.run(prepare(behind))
    return create_app(behind, clock)


@asynccontextmanager
async def peer(
    app: Starlette, address: str, headers: dict[str, str]
) -> AsyncIterator[httpx2.AsyncClient]:
    """Requests over plain HTTP from `address`, each carrying `headers`."""
    transport = httpx2.ASGITransport(app=app, client=(address, 40000))
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


async def _wrong_password(client: httpx2.AsyncClient, phone: str = STAFF) -> httpx2.Response:
    data = {"phone": phone, "password": "wrong-password", "next": ""}
    return await client.post("/login", data=data, headers=SAME_ORIGIN, follow_redirects=False)


async def _signed_in(client: httpx2.AsyncClient, phone: str = STAFF) -> httpx2.Response:
    data = {"phone": phone, "password": DEMO_PASSWORD, "next": ""}
    return await client.post("/login", data=data, headers=SAME_ORIGIN, follow_redirects=False)


def _sources(settings: Settings) -> set[str]:
    with sqlite3.connect(settings.database_path) as conn:
        return {row[0] for row in conn.execute("SELECT source FROM login_sources")}


def _cookies(response: httpx2.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_a_forged_header_from_an_untrusted_peer_changes_nothing(settings, clock):
    app = _app(settings, clock)

    async def scenario() -> None:
        async with peer(app, ATTACKER, FORGED) as attacker:
            page = await attacker.get("/login?lang=zh")
            assert page.status_code == 200 and "strict-transport-security" not in page.headers
            cookies = _cookies(page)
            assert {line.split("=")[0] for line in cookies} == {"cb_lang", "cb_csrf"}
            assert not [line for line in cookies if "secure" in line.lower()]
            assert (await _wrong_password(attacker)).status_code == 401
            signed_in = await _signed_in(attacker)
            assert signed_in.status_code == 303
            assert not [line for line in _cookies(signed_in) if "secure" in line.lower()]

    serving(app, scenario)
    assert _sources(settings) == {ATTACKER}  # the peer, not the forged 198.51.100.1


def test_the_trusted_proxy_names_the_scheme_and_the_client(settings, clock):
    app = _app(settings, clock)
    said = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": f"{FORGED['X-Forwarded-For']}, {CLIENT}",
    }

    async def scenario() -> None:
        async with peer(app, PROXY, said) as proxy:
            page = await proxy.get("/login?lang=zh")
            assert page.headers["strict-transport-security"] == "max-age=31536000"
            cookies = _cookies(page)
            assert {line.split("=")[0] for line in cookies} == {"cb_lang", "cb_csrf"}
            assert all("; secure" in line.lower() for line in cookies)
            assert (await _wrong_password(proxy)).status_code == 401
            signed_in = await _signed_in(proxy)
            assert signed_in.status_code == 303
            names = {line.split("=")[0] for line in _cookies(signed_in)}
            assert {"cb_session", "cb_device"} <= names
            assert all("; secure" in line.lower() for line in _cookies(signed_in))

    serving(app, scenario)
    # the last address the proxy names, not the proxy and not what the client itself claimed
    assert _sources(settings) == {CLIENT}


def test_behind_the_proxy_one_client_is_limited_not_everyone(settings, clock):
    app = _app(settings, clock)

    async def scenario() -> None:
        async with peer(app, PROXY, {"X-Forwarded-For": CLIENT}) as proxy:
            for n in range(sources.FREE + 1):
                await _wrong_password(proxy, f"138077100{n:02d}")
            assert (await _signed_in(proxy)).status_code == 429
            proxy.headers["X-Forwarded-For"] = OTHER
            assert (await _signed_in(proxy)).status_code == 303

    serving(app, scenario)


def test_by_default_only_a_proxy_on_this_machine_is_trusted(settings, clock):
    asyncio.run(prepare(settings))
    loopback = create_app(_behind(settings, WebSettings(port=1).trusted_proxies), clock)
    nobody = create_app(_behind(settings, ""), clock)

    async def secure_cookies(app: Starlette, address: str) -> list[bool]:
        async with peer(app, address, FORGED) as client:
            return ["; secure" in line.lower() for line in _cookies(await client.get("/login"))]

    assert serving(loopback, lambda: secure_cookies(loopback, "127.0.0.1")) == [True]
    assert serving(loopback, lambda: secure_cookies(loopback, "::1")) == [True]
    assert serving(loopback, lambda: secure_cookies(loopback, PROXY)) == [False]
    assert serving(nobody, lambda: secure_cookies(nobody, "127.0.0.1")) == [False]


def test_cookie_secure_still_forces_secure_cookies_over_plain_http(settings, clock):
    forced = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, cookie_secure=True)
    )
    asyncio.run(prepare(forced))
    app = create_app(forced, clock)

    async def scenario() -> httpx2.Response:
        async with peer(app, ATTACKER, {}) as client:
            return await client.get("/login")

    page = serving(app, scenario)
    assert page.headers["strict-transport-security"] == "max-age=31536000"
    assert all("; secure" in line.lower() for line in _cookies(page))


def test_a_kept_public_page_has_hsts_over_https_only(settings, clock):
    app = _app(settings, clock)

    async def scenario() -> tuple[httpx2.Response, ...]:
        async with peer(app, ATTACKER, {}) as plain, peer(app, PROXY, FORGED) as proxied:
            return (
                await plain.get("/services"),
                await proxied.get("/services"),
                await plain.get("/services"),
            )

    first, over_https, again = serving(app, scenario)
    assert "strict-transport-security" not in first.headers
    assert over_https.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in again.headers


def test_central_behind_its_proxy(tmp_path, clock):
    settings = CentralSettings(
        data_dir=tmp_path / "central",
        nodes=NODES,
        web=WebSettings(port=8000, demo=True, trusted_proxies=PROXY),
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )
    app = create_central(settings, clock)

    async def scenario() -> tuple[httpx2.Response, httpx2.Response]:
        async with peer(app, PROXY, FORGED) as proxy, peer(app, ATTACKER, FORGED) as attacker:
            return await _signed_in(proxy, CIVIL_HEPU), await _signed_in(attacker, CIVIL_HEPU)

    via_proxy, direct = serving(app, scenario)
    assert via_proxy.status_code == direct.status_code == 303
    assert all("; secure" in line.lower() for line in _cookies(via_proxy))
    assert not [line for line in _cookies(direct) if "secure" in line.lower()]
