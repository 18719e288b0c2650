"""Sign-in and tracking-details throttling that an attacker cannot turn against the owner, over
the real app from browsers at different addresses: the owner's usual device still gets in, one
address is slowed down across every account and code, the wait is said in the answer."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from central.app import create_app as create_central
from central.settings import CentralSettings
from edge.accounts.demo_people import DEMO_PASSWORD
from edge.app import create_app
from edge.kernel.auth import sources
from edge.kernel.settings import WebSettings
from replication.store_config import StoreSettings
from tests.central_support import NODES
from tests.conftest import AGENT_QIANJIANG, CSRF_FIELD, STAFF, csrf_of, login, prepare
from tests.intake_support import submit
from tests.test_lockout import serving

WRONG = "wrong-password"
OWNER, ATTACKER, NEIGHBOUR = "10.20.0.5", "10.20.0.66", "10.20.0.77"


@asynccontextmanager
async def browser(app: Starlette, address: str) -> AsyncIterator[httpx2.AsyncClient]:
    """A browser of its own (cookie jar) at `address`."""
    transport = httpx2.ASGITransport(app=app, client=(address, 40000))
    async with httpx2.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield client


async def sign_in(client: httpx2.AsyncClient, phone: str, password: str) -> httpx2.Response:
    page = await client.get("/login")  # signed out, the page sets the visitor cookie
    data = {"phone": phone, "password": password, "next": ""}
    if CSRF_FIELD.search(page.text):  # signed in already: the session's token
        data["csrf_token"] = csrf_of(page.text)
    return await client.post("/login", data=data, follow_redirects=False)


def _phones(settings, limit: int) -> list[str]:
    with sqlite3.connect(settings.database_path) as conn:
        found = conn.execute("SELECT phone FROM accounts ORDER BY phone LIMIT ?", (limit,))
        return [row[0] for row in found]


@pytest.fixture
def edge_app(settings, clock) -> Starlette:
    asyncio.run(prepare(settings))
    return create_app(settings, clock)


def test_an_attackers_wrong_passwords_do_not_stop_the_owners_usual_device(edge_app):
    async def scenario() -> None:
        async with browser(edge_app, OWNER) as owner, browser(edge_app, ATTACKER) as attacker:
            assert (await sign_in(owner, STAFF, DEMO_PASSWORD)).status_code == 303
            assert owner.cookies.get("cb_device")
            statuses = [(await sign_in(attacker, STAFF, WRONG)).status_code for _ in range(6)]
            assert statuses == [401] * 4 + [429] * 2  # the phone is locked for the attacker
            assert (await sign_in(owner, STAFF, DEMO_PASSWORD)).status_code == 303
            async with browser(edge_app, OWNER) as new_phone:  # not the usual device: locked
                locked = await sign_in(new_phone, STAFF, DEMO_PASSWORD)
                assert locked.status_code == 429
                assert "15 分钟后再试" in locked.text and locked.headers["retry-after"] == "900"
            for _attempt in range(5):  # the usual device is limited on its own
                await sign_in(owner, STAFF, WRONG)
            assert (await sign_in(owner, STAFF, DEMO_PASSWORD)).status_code == 429

    serving(edge_app, scenario)


def test_the_wait_is_said_in_english_too(edge_app):
    async def scenario() -> None:
        async with browser(edge_app, ATTACKER) as attacker:
            await attacker.get("/services?lang=en")
            answers = [await sign_in(attacker, STAFF, WRONG) for _ in range(6)]
            assert answers[-1].status_code == 429
            assert "Please try again in 15 minutes." in answers[-1].text

    serving(edge_app, scenario)


def test_a_device_cookie_opens_only_the_account_it_signed_in_to(edge_app, settings):
    async def scenario() -> None:
        async with browser(edge_app, ATTACKER) as attacker:
            assert (await sign_in(attacker, AGENT_QIANJIANG, DEMO_PASSWORD)).status_code == 303
            for _attempt in range(5):
                await sign_in(attacker, STAFF, WRONG)  # its own device, another account
            assert (await sign_in(attacker, STAFF, WRONG)).status_code == 429

    serving(edge_app, scenario)


def test_wrong_logins_from_one_address_across_25_phones_are_throttled(edge_app, clock):
    phones = [f"138077100{n:02d}" for n in range(25)]  # staff numbers follow a pattern

    async def scenario() -> None:
        async with browser(edge_app, ATTACKER) as attacker:
            answers = [await sign_in(attacker, phones[n % 25], WRONG) for n in range(100)]
            statuses = [a.status_code for a in answers]
            assert statuses[: sources.FREE - 1] == [401] * (sources.FREE - 1)
            assert statuses[sources.FREE - 1 :] == [429] * (101 - sources.FREE)
            assert answers[-1].headers["retry-after"] == "1"
            assert "1 秒后再试" in answers[-1].text
            waits = []
            for n in range(4):  # each wait served, the next failure doubles it
                clock.advance(seconds=int(answers[-1].headers["retry-after"]))
                answers.append(await sign_in(attacker, phones[20 + n], WRONG))
                waits.append(answers[-1].headers["retry-after"])
            assert waits == ["2", "4", "8", "16"]
        async with browser(edge_app, NEIGHBOUR) as neighbour:  # another address is not slowed
            assert (await sign_in(neighbour, phones[3], WRONG)).status_code == 401
        async with browser(edge_app, OWNER) as owner:
            assert (await sign_in(owner, STAFF, DEMO_PASSWORD)).status_code == 303

    serving(edge_app, scenario)


def test_one_password_tried_on_every_account_of_the_node_is_throttled(edge_app, settings):
    phones = _phones(settings, 15)
    assert len(phones) == 15

    async def scenario() -> None:
        async with browser(edge_app, ATTACKER) as attacker:
            statuses = [(await sign_in(attacker, phone, WRONG)).status_code for phone in phones]
            assert statuses.count(401) == sources.FREE - 1 and statuses.count(429) == 6

    serving(edge_app, scenario)


def test_a_burst_from_one_address_across_phones_gets_at_most_ten_checks(edge_app, settings):
    phones = [f"138077100{n:02d}" for n in range(25)]

    async def scenario() -> list[int]:
        async with browser(edge_app, ATTACKER) as attacker:
            await attacker.get("/login")
            posts = [
                attacker.post(
                    "/login",
                    data={"phone": phones[n % 25], "password": WRONG},
                    follow_redirects=False,
                )
                for n in range(50)
            ]
            return [r.status_code for r in await asyncio.gather(*posts)]

    statuses = serving(edge_app, scenario)
    assert statuses.count(401) <= sources.FREE - 1
    assert statuses.count(429) + statuses.count(503) >= 50 - sources.FREE
    with sqlite3.connect(settings.database_path) as conn:
        (failures,) = conn.execute("SELECT failures FROM login_sources").fetchone()
    assert failures == sources.FREE  # no more password checks than the address may make


def _tracking_code(settings, clock) -> str:
    with TestClient(create_app(settings, clock), base_url="https://testserver") as client:
        login(client, AGENT_QIANJIANG)
        assert submit(client, "MZ-002").status_code == 303
    with sqlite3.connect(settings.database_path) as conn:
        return conn.execute("SELECT tracking_code FROM applications").fetchone()[0]


async def _details(client: httpx2.AsyncClient, code: str, last4: str) -> httpx2.Response:
    await client.get(f"/track/{code}")
    return await client.post(f"/track/{code}", data={"last4": last4})


@pytest.fixture
def tracked(settings, clock) -> tuple[Starlette, str]:
    """A node with one accepted application: (its app, the application's tracking code)."""
    asyncio.run(prepare(settings))
    code = _tracking_code(settings, clock)
    return create_app(settings, clock), code


def test_a_third_party_who_knows_the_code_cannot_lock_the_applicant_out(tracked):
    app, code = tracked

    async def scenario() -> None:
        async with browser(app, ATTACKER) as attacker:
            answers = [await _details(attacker, code, f"{n:04d}") for n in range(6)]
            assert [a.status_code for a in answers] == [400] * 4 + [429] * 2
            assert "15 分钟后再试" in answers[-1].text
            assert answers[-1].headers["retry-after"] == "900"
        async with browser(app, OWNER) as applicant:
            shown = await _details(applicant, code, "8000")  # the demo phone's last four
            assert shown.status_code == 200 and 'name="last4"' not in shown.text
            assert applicant.cookies.get("cb_device")
            for n in range(5):  # the applicant's own typos stop only the applicant's device
                await _details(applicant, code, f"{n:04d}")
            assert (await _details(applicant, code, "8000")).status_code == 429
        async with browser(app, NEIGHBOUR) as neighbour:
            assert (await _details(neighbour, code, "8000")).status_code == 200

    serving(app, scenario)


def test_one_address_guessing_across_codes_is_throttled(tracked):
    app, code = tracked

    async def scenario() -> None:
        async with browser(app, ATTACKER) as attacker:
            for n in range(4):
                assert (await _details(attacker, code, f"{n:04d}")).status_code == 400
            for n in range(sources.FREE - 4):  # wrong passwords, each on another phone
                await sign_in(attacker, f"138077100{n:02d}", WRONG)
            refused = await _details(attacker, code, "8000")
            assert refused.status_code == 429 and re.search(r"\d+ 秒后再试", refused.text)

    serving(app, scenario)


def test_a_forged_forwarded_for_header_does_not_change_the_address(edge_app):
    async def scenario() -> None:
        async with browser(edge_app, ATTACKER) as attacker:
            statuses = []
            for n in range(sources.FREE + 2):
                attacker.headers["X-Forwarded-For"] = f"198.51.100.{n}"
                statuses.append((await sign_in(attacker, f"138077100{n:02d}", WRONG)).status_code)
            assert statuses[-3:] == [429] * 3

    serving(edge_app, scenario)


def test_behind_a_proxy_the_address_is_the_last_forwarded_entry(settings, clock):
    proxied = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, client_address_header="X-Forwarded-For")
    )
    asyncio.run(prepare(proxied))
    app = create_app(proxied, clock)

    async def scenario() -> None:
        async with browser(app, "127.0.0.1") as proxy:  # every request comes through the proxy
            proxy.headers["X-Forwarded-For"] = f"203.0.113.9, {ATTACKER}"
            for n in range(sources.FREE):
                await sign_in(proxy, f"138077100{n:02d}", WRONG)
            assert (await sign_in(proxy, STAFF, DEMO_PASSWORD)).status_code == 429
            proxy.headers["X-Forwarded-For"] = f"{ATTACKER}, {NEIGHBOUR}"
            assert (await sign_in(proxy, STAFF, DEMO_PASSWORD)).status_code == 303

    serving(app, scenario)


def test_central_limits_one_address_across_accounts_too(tmp_path, clock):
    settings = CentralSettings(
        data_dir=tmp_path / "central",
        nodes=NODES,
        web=WebSettings(port=8000, demo=True),
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )
    app = create_central(settings, clock)

    async def scenario() -> list[int]:
        async with browser(app, ATTACKER) as attacker:
            return [
                (await sign_in(attacker, f"138077001{n:02d}", WRONG)).status_code
                for n in range(sources.FREE + 2)
            ]

    assert serving(app, scenario)[-2:] == [429, 429]
