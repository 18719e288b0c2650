"""Settings: one frozen object, read from the environment only by from_environ, documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from central.settings import ENV_PREFIX as CENTRAL_PREFIX
from central.settings import CentralSettings
from edge.settings import Settings, SettingsError, env_name

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [env_name(f.name) for f in dataclasses.fields(Settings)]
    names += [env_name(f.name, CENTRAL_PREFIX) for f in dataclasses.fields(CentralSettings)]
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
    assert settings.port == 9000 and settings.cookie_secure is False
    assert settings.database_path == Path("/srv/cunban/edge.db")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]


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
