"""Settings: frozen objects read from the environment only by from_environ, documented; both
nodes embed the same shared part (WebSettings), read from the same flat variables."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from central.app import create_app as central_app
from central.settings import ENV_PREFIX as CENTRAL_PREFIX
from central.settings import CentralSettings
from edge.app import create_app as edge_app
from edge.kernel.settings import SettingsError, WebSettings, env_names, from_environ
from edge.settings import Settings
from tests.central_support import NODES
from tests.conftest import AGENT_QIANJIANG, LIANZHOU, STAFF, MovableClock, login, prepare
from tests.test_central_officer import CITY_ADMIN, CIVIL_HEPU

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    edge, central = env_names(Settings), env_names(CentralSettings, CENTRAL_PREFIX)
    assert len(set(edge)) == len(edge) and len(set(central)) == len(central)  # none shadowed
    names = edge + central
    # the shared part is read from flat names on both nodes, as it always was
    assert {"CUNBAN_COOKIE_SECURE", "CUNBAN_CENTRAL_COOKIE_SECURE", "CUNBAN_NODE_ID"} <= set(names)
    missing = [name for name in names if f"`{name}`" not in readme]
    assert missing == []


def test_only_settings_reads_the_environment():
    readers = []
    for path in list((ROOT / "edge").rglob("*.py")) + list((ROOT / "central").rglob("*.py")):
        if path.name == "settings.py":
            continue
        if re.search(r"os\.environ|os\.getenv", path.read_text(encoding="utf-8")):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_from_environ_parses_types():
    settings = Settings.from_environ(
        {
            "CUNBAN_NODE_ID": "lianzhou",
            "CUNBAN_TOWNSHIP_CODE": "450521100000",
            "CUNBAN_PORT": "9000",
            "CUNBAN_COOKIE_SECURE": "false",
            "CUNBAN_DATA_DIR": "/srv/cunban",
        }
    )
    assert settings.web.port == 9000 and settings.web.cookie_secure is False
    assert settings.database_path == Path("/srv/cunban/edge.db")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.web.port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.data_dir = Path("/tmp")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CUNBAN_TOWNSHIP_CODE": "450521100000"}, "CUNBAN_NODE_ID is required"),
        ({"CUNBAN_NODE_ID": "a", "CUNBAN_TOWNSHIP_CODE": "4505"}, "12-digit"),
        (
            {"CUNBAN_NODE_ID": "a", "CUNBAN_TOWNSHIP_CODE": "450521100000", "CUNBAN_PORT": "x"},
            "whole number",
        ),
    ],
)
def test_bad_settings_say_what_is_wrong(environ, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_environ(environ)


EDGE_REQUIRED = {"CUNBAN_NODE_ID": "lianzhou", "CUNBAN_TOWNSHIP_CODE": LIANZHOU}
# Every field of the shared part, each away from its default.
SHARED = {
    "HOST": "0.0.0.0",
    "PORT": "9000",
    "COOKIE_SECURE": "off",
    "SESSION_HOURS": "8",
    "SESSION_IDLE_MINUTES": "45",
    "LOGIN_MAX_FAILURES": "3",
    "LOGIN_LOCK_MINUTES": "30",
    "LOG_LEVEL": "warning",
    "DEMO": "yes",
    "TIMEZONE": "Asia/Urumqi",
    "MIN_FREE_MB": "50",
    "CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
    "TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7",
    "BASE_URL": "https://cunban.example",
    "METRICS_TOKEN": "scrape-token",
}


def test_both_nodes_read_the_shared_part_alike_from_flat_variables():
    assert sorted(env_names(WebSettings, "")) == sorted(SHARED)
    environ = EDGE_REQUIRED | {f"CUNBAN_{name}": raw for name, raw in SHARED.items()}
    environ |= {f"CUNBAN_CENTRAL_{name}": raw for name, raw in SHARED.items()}
    edge, central = Settings.from_environ(environ), CentralSettings.from_environ(environ)
    assert edge.web == central.web
    assert central.web == WebSettings(
        host="0.0.0.0",
        port=9000,
        cookie_secure=False,
        session_hours=8,
        session_idle_minutes=45,
        login_max_failures=3,
        login_lock_minutes=30,
        log_level="warning",
        demo=True,
        timezone="Asia/Urumqi",
        min_free_mb=50,
        client_address_header="X-Forwarded-For",
        trusted_proxies="10.0.0.0/8, 192.0.2.7",
        base_url="https://cunban.example",
        metrics_token="scrape-token",
    )


def test_each_node_keeps_its_own_defaults_and_reads_only_its_own_prefix():
    shared = {
        "host": "127.0.0.1",
        "cookie_secure": False,  # Secure per request from the real scheme (transport.py)
        "trusted_proxies": "127.0.0.1,::1",
        "session_hours": 12,
        "session_idle_minutes": 30,
        "login_max_failures": 5,
        "login_lock_minutes": 15,
        "log_level": "info",
        "demo": False,
        "timezone": "Asia/Shanghai",
        "min_free_mb": 200,
        "client_address_header": "",
    }
    edge = Settings.from_environ(EDGE_REQUIRED | {"CUNBAN_CENTRAL_PORT": "9000"})
    assert edge.web == WebSettings(port=8001, **shared)
    assert CentralSettings.from_environ(EDGE_REQUIRED | {"CUNBAN_PORT": "9000"}).web == (
        WebSettings(port=8000, **shared)
    )


@pytest.mark.parametrize(
    ("node", "name", "raw", "message"),
    [
        (Settings, "CUNBAN_COOKIE_SECURE", "maybe", "true or false"),
        (CentralSettings, "CUNBAN_CENTRAL_COOKIE_SECURE", "maybe", "true or false"),
        (Settings, "CUNBAN_SESSION_HOURS", "twelve", "a whole number"),
        (CentralSettings, "CUNBAN_CENTRAL_LOGIN_MAX_FAILURES", "five", "a whole number"),
    ],
)
def test_a_bad_shared_value_names_the_node_s_own_variable(node, name, raw, message):
    with pytest.raises(SettingsError, match=f"^{name} must be {message}, not '{raw}'$"):
        node.from_environ(EDGE_REQUIRED | {name: raw})


@pytest.mark.parametrize(
    ("node", "name"),
    [(Settings, "CUNBAN_TRUSTED_PROXIES"), (CentralSettings, "CUNBAN_CENTRAL_TRUSTED_PROXIES")],
)
def test_trusted_proxies_must_be_addresses_or_networks(node, name):
    assert node.from_environ(EDGE_REQUIRED | {name: ""}).web.trusted_proxies == ""
    with pytest.raises(SettingsError, match=f"^{name} must list IP addresses or networks"):
        node.from_environ(EDGE_REQUIRED | {name: "127.0.0.1, caddy.local"})


def test_central_reads_its_warning_working_days_and_refuses_a_negative_one():
    assert CentralSettings.from_environ({}).warning_working_days == 1
    wider = CentralSettings.from_environ({"CUNBAN_CENTRAL_WARNING_WORKING_DAYS": "3"})
    assert wider.warning_working_days == 3
    assert (
        CentralSettings.from_environ({"CUNBAN_WARNING_WORKING_DAYS": "3"}).warning_working_days == 1
    )
    with pytest.raises(SettingsError, match="CUNBAN_CENTRAL_WARNING_WORKING_DAYS must be 0 to 30"):
        CentralSettings.from_environ({"CUNBAN_CENTRAL_WARNING_WORKING_DAYS": "-1"}).validate()


@dataclass(frozen=True)
class _NoDefaultPart:
    web: WebSettings


def test_an_embedded_part_without_a_default_is_required_field_by_field():
    with pytest.raises(SettingsError, match=r"^CUNBAN_PORT is required$"):
        from_environ(_NoDefaultPart, {})
    assert from_environ(_NoDefaultPart, {"CUNBAN_PORT": "80"}).web == WebSettings(port=80)


POLICY = {
    "COOKIE_SECURE": "false",
    "SESSION_HOURS": "2",
    "LOGIN_MAX_FAILURES": "2",
    "LOGIN_LOCK_MINUTES": "30",
}


def _edge(tmp_path: Path) -> tuple[Starlette, str, str]:
    environ = EDGE_REQUIRED | {"CUNBAN_DATA_DIR": str(tmp_path / "edge")}
    settings = Settings.from_environ(environ | {f"CUNBAN_{k}": v for k, v in POLICY.items()})
    asyncio.run(prepare(settings))
    return edge_app(settings, MovableClock()), STAFF, AGENT_QIANJIANG


def _central(tmp_path: Path) -> tuple[Starlette, str, str]:
    environ = {
        "CUNBAN_CENTRAL_DATA_DIR": str(tmp_path / "central"),
        "CUNBAN_CENTRAL_REPLICA_DIR": str(tmp_path / "replica"),
        "CUNBAN_CENTRAL_NODES": NODES,
        "CUNBAN_CENTRAL_DEMO": "true",
    }
    environ |= {f"CUNBAN_CENTRAL_{k}": v for k, v in POLICY.items()}
    return (
        central_app(CentralSettings.from_environ(environ), MovableClock()),
        CITY_ADMIN,
        CIVIL_HEPU,
    )


@pytest.mark.parametrize("build", [_edge, _central], ids=["edge", "central"])
def test_the_sign_in_policy_set_in_the_environment_reaches_login(
    tmp_path: Path, build: Callable[[Path], tuple[Starlette, str, str]]
):
    app, locked_phone, phone = build(tmp_path)
    # plain HTTP: with COOKIE_SECURE=false the cookie is Secure only over HTTPS (transport.py)
    with TestClient(app, base_url="http://testserver") as client:
        assert login(client, locked_phone, "wrong-password").status_code == 401
        second = login(client, locked_phone, "wrong-password")
        assert second.status_code == 429 and "30 分钟后再试" in second.text
        response = login(client, phone)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "Max-Age=7200" in cookie and "Secure" not in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://central.example.org", False),
        ("http://127.0.0.1:8000", True),
    ],
)
def test_the_feed_is_pulled_over_https_unless_plain_http_is_allowed(url, allowed):
    environ = {**EDGE_REQUIRED, "CUNBAN_CENTRAL_URL": url}
    if allowed:
        with pytest.raises(SettingsError, match="CUNBAN_CENTRAL_URL must be an https:// URL"):
            Settings.from_environ(environ)
        environ["CUNBAN_ALLOW_PLAIN_HTTP"] = "true"
    assert Settings.from_environ(environ).central_url == url
    with pytest.raises(SettingsError, match="CUNBAN_ALLOW_PLAIN_HTTP=true"):
        Settings.from_environ({**environ, "CUNBAN_CENTRAL_URL": "ftp://central.example.org"})


def test_a_node_with_a_plain_http_central_url_does_not_start(tmp_path):
    environ = {
        **os.environ,
        **EDGE_REQUIRED,
        "CUNBAN_DATA_DIR": str(tmp_path),
        "CUNBAN_CENTRAL_URL": "http://central.example.org",
    }
    environ.pop("CUNBAN_ALLOW_PLAIN_HTTP", None)
    ran = subprocess.run(
        [sys.executable, "-m", "edge", "sync"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        timeout=60,
    )
    assert ran.returncode == 2
    assert b"cannot start: CUNBAN_CENTRAL_URL must be an https:// URL" in ran.stderr
