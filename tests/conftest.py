"""Fixtures: a real edge app on a real SQLite file in tmp_path, a clock tests can move."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from edge.accounts.demo_people import DEMO_PASSWORD
from edge.app import create_app
from edge.demo import load_demo_node
from edge.settings import Settings
from tests.sms_inbound import TEST_INBOUND_SECRET

pytest_plugins = ("tests.central_support", "tests.browser_support", "tests.small_disk_support")

LIANZHOU = "450521100000"
QIANJIANG = "450521100201"  # a village of Lianzhou
HUANZHU = "450521100202"  # another village of Lianzhou
FUCHENG = "450503101000"

ADMIN = "13807710001"
STAFF = "13807710002"
OFFICER_CIVIL = "13807710100"
OFFICER_AGRI = "13807710106"
OFFICER_LAND = "13807710107"
OFFICER_MEDICAL = "13807710102"
AGENT_QIANJIANG = "13807710011"
AGENT_HUANZHU = "13807710012"

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class MovableClock:
    """A clock the test moves forward; the app reads it instead of the system time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def prepare(settings: Settings) -> None:
    """Migrate, load reference data and the demo accounts, as `python -m edge demo` does."""
    await load_demo_node(settings, datetime.now(UTC), applications=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        sms_inbound_secret=TEST_INBOUND_SECRET,
    )


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def client(settings: Settings, clock: MovableClock) -> Iterator[TestClient]:
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings, clock), base_url="https://testserver") as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: TestClient, phone: str, password: str = DEMO_PASSWORD):
    """Sign in through the real form (signed out, it carries no token: the visitor cookie the
    form's page set stands for it); returns the POST response (not followed)."""
    page = client.get("/login")
    data = {"phone": phone, "password": password, "next": ""}
    if CSRF_FIELD.search(page.text):  # already signed in: the session's token
        data["csrf_token"] = csrf_of(page.text)
    return client.post(
        "/login",
        data=data,
        follow_redirects=False,
    )
