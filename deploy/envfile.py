"""`/etc/cunban/<node>.env`: every setting the node's settings class reads, each with its
README description and default; values the installer was told are set, the rest commented."""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.settings import ENV_PREFIX as CENTRAL_PREFIX
from central.settings import CentralSettings
from edge.kernel.settings import ENV_PREFIX, env_name
from edge.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| `(CUNBAN_[A-Z0-9_]+)` \| (.*?) \| (.*) \|$")


@dataclass(frozen=True)
class Setting:
    """One environment variable: name, default as written in the env file, description."""

    name: str
    default: str
    description: str


def settings_of(role: str) -> list[Setting]:
    """Every variable the role's settings class reads, in declaration order."""
    central = role in ("central", "follow")  # a follow machine runs central's follow process
    cls, prefix = (CentralSettings, CENTRAL_PREFIX) if central else (Settings, ENV_PREFIX)
    described = descriptions()
    return [
        Setting(name, default, described.get(name, ""))
        for name, default in _defaults(cls, prefix, None)
    ]


def _defaults(cls: Any, prefix: str, base: Any) -> list[tuple[str, str]]:
    hints = typing.get_type_hints(cls)
    found: list[tuple[str, str]] = []
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        value = getattr(base, field.name) if base is not None else field.default
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            found += _defaults(kind, prefix, value)
        else:
            shown = "" if value is dataclasses.MISSING else _written(value)
            found.append((env_name(field.name, prefix), shown))
    return found


def _written(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def descriptions() -> dict[str, str]:
    """Each setting's description from README's settings tables (the last row wins)."""
    found: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        if match := ROW.match(line.strip()):
            found[match.group(1)] = match.group(3).replace("`", "")
    return found


def existing_values(text: str) -> dict[str, str]:
    """The values set (not commented) in an env file already written."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if equals and not line.startswith("#") and name.strip():
            values[name.strip()] = value
    return values


def render(role: str, title: str, values: Mapping[str, str]) -> str:
    """The env file: a header, then per setting its description, default and value; a value
    not given stays commented out (the default applies)."""
    lines = [
        f"# Cunban {title}: settings read by every process of this node (systemd",
        "# EnvironmentFile). Written by deploy/install; a second run keeps the values set here.",
        "# Each setting: what it does, its default; uncomment a line to change it.",
        "",
    ]
    for setting in settings_of(role):
        lines += _wrapped(setting.description)
        lines.append(f"# default: {setting.default or '(empty)'}")
        if setting.name in values:
            lines.append(f"{setting.name}={values[setting.name]}")
        else:
            lines.append(f"#{setting.name}={setting.default}")
        lines.append("")
    extra = sorted(set(values) - {setting.name for setting in settings_of(role)})
    if extra:
        lines.append("# Not settings of the app: read by the processes around it.")
        lines += [f"{name}={values[name]}" for name in extra]
        lines.append("")
    return "\n".join(lines)


def _wrapped(text: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    current = "#"
    for word in text.split():
        if len(current) + 1 + len(word) > width and current != "#":
            lines.append(current)
            current = "#"
        current += " " + word
    if current != "#":
        lines.append(current)
    return lines
