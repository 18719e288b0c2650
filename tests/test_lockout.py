"""The login attempt limit under concurrency, through the real app: correct passwords always get
in, a burst of wrong ones gets at most N password checks, checks left by a dead process expire."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx2
import pytest
from starlette.applications import Starlette

from central.app import create_app as create_central
from central.settings import CentralSettings
from edge.accounts.demo_people import DEMO_PASSWORD
from edge.app import create_app
from edge.kernel.auth import lockout, routes
from edge.kernel.db import Database
from edge.kernel.settings import WebSettings
from replication.store_config import StoreSettings
from tests.central_support import NODES
from tests.conftest import STAFF, MovableClock, prepare

WRONG = "wrong-password"
CITY_ADMIN = "13807700001"
T = TypeVar("T")


async def _form_client(app: Starlette) -> httpx2.AsyncClient:
    """A browser of its own (cookie jar) that has the login form open (and its visitor cookie)."""
    client = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="https://testserver"
    )
    await client.get("/login")
    return client


async def _post(client: httpx2.AsyncClient, phone: str, password: str) -> int:
    data = {"phone": phone, "password": password, "next": ""}
    response = await client.post("/login", data=data, follow_redirects=False)
    return response.status_code


async def at_once(app: Starlette, attempts: list[tuple[str, str]]) -> list[int]:
    """Each (phone, password) from its own browser, all posted at the same moment; statuses in
    the order given."""
    forms = [await _form_client(app) for _ in attempts]
    try:
        posts = (
            _post(client, phone, password)
            for client, (phone, password) in zip(forms, attempts, strict=True)
        )
        return list(await asyncio.gather(*posts))
    finally:
        for client in forms:
            await client.aclose()


def serving(app: Starlette, scenario: Callable[[], Awaitable[T]]) -> T:
    """Run `scenario` while the app is up (its start-up and shutdown around it)."""

    async def run() -> T:
        async with app.router.lifespan_context(app):
            return await scenario()

    return asyncio.run(run())


def sign_in_at_once(app: Starlette, attempts: list[tuple[str, str]]) -> list[int]:
    """`at_once` on an app started for it alone."""
    return serving(app, lambda: at_once(app, attempts))


def _login_results(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        found = conn.execute("SELECT result FROM audit_log WHERE action = 'login' ORDER BY seq")
        return [row[0] for row in found]


def _failures(database: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT phone, failures FROM login_failures").fetchall()


@pytest.fixture
def edge_app(settings, clock) -> Starlette:
    asyncio.run(prepare(settings))
    return create_app(settings, clock)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every password check the login makes, with its outcome (the real check, counted)."""
    made: list[bool] = []
    guard = threading.Lock()
    real: Callable[[str | None, str], bool] = routes.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        outcome = real(password_hash, password)
        with guard:
            made.append(outcome)
        return outcome

    monkeypatch.setattr(routes, "verify_password", counted)
    return made


@pytest.mark.parametrize("burst", [10, 30])
def test_concurrent_correct_logins_all_get_in(edge_app, settings, checks, burst):
    statuses = sign_in_at_once(edge_app, [(STAFF, DEMO_PASSWORD)] * burst)
    assert statuses == [303] * burst
    assert _login_results(settings.database_path) == ["ok"] * burst
    assert _failures(settings.database_path) == []
    assert checks == [True] * burst


def test_a_burst_of_wrong_passwords_gets_at_most_n_checks_then_the_lock(edge_app, settings, checks):
    async def scenario() -> None:
        statuses = await at_once(edge_app, [(STAFF, WRONG)] * 20)
        assert len(checks) == 5 and not any(checks)  # N = 5 checks, then the lock
        assert sorted(statuses) == [401] * 4 + [429] * 16
        results = _login_results(settings.database_path)
        assert results.count("failed") == 4 and results.count("locked") == 16
        assert await at_once(edge_app, [(STAFF, DEMO_PASSWORD)]) == [429]  # even the right one
        assert len(checks) == 5  # a locked key never reaches the password check

    serving(edge_app, scenario)


def test_right_passwords_after_failures_get_in_at_once_and_clear_them(edge_app, settings, checks):
    async def scenario() -> None:
        for _attempt in range(4):
            assert await at_once(edge_app, [(STAFF, WRONG)]) == [401]
        assert await at_once(edge_app, [(STAFF, DEMO_PASSWORD)] * 3) == [303] * 3
        assert _failures(settings.database_path) == []
        for _attempt in range(4):  # a fresh count of five
            assert await at_once(edge_app, [(STAFF, WRONG)]) == [401]
        assert await at_once(edge_app, [(STAFF, WRONG)]) == [429]

    serving(edge_app, scenario)


def test_right_and_wrong_passwords_at_once_never_lock_the_right_ones_out(edge_app, checks):
    statuses = sign_in_at_once(edge_app, [(STAFF, DEMO_PASSWORD), (STAFF, WRONG)] * 3)
    assert statuses[0::2] == [303] * 3  # three failures are short of the limit of five
    assert statuses[1::2] == [401] * 3


async def _leave_checks(database: Path, key: str, clock: MovableClock, count: int) -> None:
    """What a web process killed in the middle of `count` password checks leaves behind."""
    db = Database(database)
    await db.open()
    try:
        for _check in range(count):
            async with db.write() as conn:
                assert (await lockout.begin(conn, key, clock(), 5)).check is not None
    finally:
        await db.close()


def test_checks_left_by_a_killed_process_hold_logins_briefly_then_expire(
    edge_app, settings, clock, checks, monkeypatch
):
    asyncio.run(_leave_checks(settings.database_path, STAFF, clock, 5))
    monkeypatch.setattr(lockout, "WAIT_SECONDS", 0.3)  # the bounded wait, shortened

    async def scenario() -> None:
        busy = await at_once(edge_app, [(STAFF, DEMO_PASSWORD)] * 3)
        assert busy == [503] * 3  # no sixth check while five may still run; no lock either
        assert checks == []
        clock.advance(seconds=61)  # a check unfinished after a minute was lost with its process
        assert await at_once(edge_app, [(STAFF, DEMO_PASSWORD)]) == [303]
        assert _failures(settings.database_path) == []

    serving(edge_app, scenario)


def test_the_busy_answer_says_when_to_retry(edge_app, settings, clock, monkeypatch):
    asyncio.run(_leave_checks(settings.database_path, STAFF, clock, 5))
    monkeypatch.setattr(lockout, "WAIT_SECONDS", 0.2)

    async def scenario() -> httpx2.Response:
        client = await _form_client(edge_app)
        try:
            data = {"phone": STAFF, "password": DEMO_PASSWORD}
            return await client.post("/login", data=data, follow_redirects=False)
        finally:
            await client.aclose()

    response = serving(edge_app, scenario)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "同时提交的尝试太多，请稍后再试。" in response.text
    assert "登录失败次数过多" not in response.text


def test_concurrent_correct_logins_all_get_in_at_central(tmp_path, clock):
    settings = CentralSettings(
        data_dir=tmp_path / "central",
        nodes=NODES,
        web=WebSettings(port=8000, demo=True),
        replica=StoreSettings(replica_dir=tmp_path / "replica"),
    )
    app = create_central(settings, clock)
    assert sign_in_at_once(app, [(CITY_ADMIN, DEMO_PASSWORD)] * 10) == [303] * 10
    assert _failures(settings.database_path) == []
