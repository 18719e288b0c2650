"""Public URLs come from the node's configured base URL, never from the request (issue 12,
finding 11): the receipt's tracking link and QR code, and the setting each node needs."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import segno
from starlette.testclient import TestClient

from central.settings import CentralSettings
from edge.app import create_app
from edge.kernel.settings import SettingsError, WebSettings
from edge.settings import Settings
from tests.conftest import LIANZHOU, MovableClock, prepare
from tests.intake_support import rows
from tests.test_applications import _accept

BASE_URL = "https://lianzhou.cunban.example"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A node told its public base URL, as every node in production is."""
    return Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        web=WebSettings(port=8001, base_url=BASE_URL),
    )


def test_the_receipt_carries_the_configured_base_url_whatever_the_host_header(client, settings):
    application_id = _accept(client, "CW-001")
    code = rows(settings, "SELECT tracking_code FROM applications")[0][0]
    receipt = client.get(
        f"/agent/applications/{application_id}/receipt", headers={"Host": "evil.example"}
    )
    assert receipt.status_code == 200
    expected = f"{BASE_URL}/track/{code}"
    assert "evil.example" not in receipt.text
    assert expected in receipt.text
    assert segno.make(expected, error="m").svg_inline(scale=3, omitsize=False) in receipt.text


@pytest.fixture
def loopback_client(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(
        node_id="lianzhou",
        township_code=LIANZHOU,
        data_dir=tmp_path / "edge",
        web=WebSettings(port=8101, host="127.0.0.2"),
    )
    asyncio.run(prepare(settings))
    with TestClient(create_app(settings, MovableClock()), base_url="https://x") as client:
        yield client, settings


def test_a_loopback_demo_without_a_base_url_uses_its_own_address(loopback_client):
    client, settings = loopback_client
    application_id = _accept(client, "CW-001")
    code = rows(settings, "SELECT tracking_code FROM applications")[0][0]
    receipt = client.get(
        f"/agent/applications/{application_id}/receipt", headers={"Host": "evil.example"}
    )
    assert f"http://127.0.0.2:8101/track/{code}" in receipt.text
    assert "evil.example" not in receipt.text


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CUNBAN_HOST": "0.0.0.0"}, "CUNBAN_BASE_URL"),
        ({"CUNBAN_BASE_URL": "lianzhou.example"}, "CUNBAN_BASE_URL"),
        ({"CUNBAN_BASE_URL": "https://lianzhou.example/?x=1"}, "CUNBAN_BASE_URL"),
    ],
)
def test_a_node_on_a_public_address_needs_a_base_url(environ, message):
    required = {"CUNBAN_NODE_ID": "lianzhou", "CUNBAN_TOWNSHIP_CODE": LIANZHOU}
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ(required | environ)


def test_central_needs_its_own_base_url_on_a_public_address():
    with pytest.raises(SettingsError, match="CUNBAN_CENTRAL_BASE_URL"):
        CentralSettings.from_environ({"CUNBAN_CENTRAL_HOST": "0.0.0.0"})
    told = {"CUNBAN_CENTRAL_HOST": "0.0.0.0", "CUNBAN_CENTRAL_BASE_URL": "https://city.example/"}
    assert CentralSettings.from_environ(told).web.public_base == "https://city.example"


def test_settings_keep_the_base_url_without_a_trailing_slash():
    web = dataclasses.replace(WebSettings(port=1), base_url="https://a.example/cunban/")
    assert web.public_base == "https://a.example/cunban"
    assert re.fullmatch(r"http://127\.0\.0\.1:8001", WebSettings(port=8001).public_base)
