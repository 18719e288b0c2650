"""Typed reads of a command's JSON payload; each names the field it found missing or wrong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


class MalformedCommand(ValueError):
    """A payload that does not fit its kind, or a kind unknown here; the edge records the
    command refused with this message, so it never blocks the feed."""


def json_object(value: object, where: str = "payload") -> Mapping[str, Any]:
    """`value` if it is a JSON object."""
    if not isinstance(value, Mapping):
        raise MalformedCommand(f"{where} must be an object")
    return value


def text(payload: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """A string field; `default` when absent, if there is one."""
    value = payload.get(name, default)
    if not isinstance(value, str):
        raise MalformedCommand(f"{name} must be text")
    return value


def optional_text(payload: Mapping[str, Any], name: str) -> str | None:
    """A string field that may be null or absent."""
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedCommand(f"{name} must be text or null")
    return value


def texts(payload: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings (empty when absent)."""
    value = payload.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedCommand(f"{name} must be a list of text")
    return tuple(value)


def flag(payload: Mapping[str, Any], name: str) -> bool:
    """A true/false field."""
    value = payload.get(name)
    if not isinstance(value, bool):
        raise MalformedCommand(f"{name} must be true or false")
    return value


def day(payload: Mapping[str, Any], name: str) -> date:
    """An ISO date field (YYYY-MM-DD)."""
    raw = text(payload, name)
    try:
        parsed = date.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != raw:
        raise MalformedCommand(f"{name} must be a date (YYYY-MM-DD), not {raw[:20]!r}")
    return parsed


def objects(payload: Mapping[str, Any], name: str) -> tuple[Mapping[str, Any], ...]:
    """A list of JSON objects."""
    value = payload.get(name)
    if not isinstance(value, list):
        raise MalformedCommand(f"{name} must be a list")
    return tuple(json_object(item, f"each of {name}") for item in value)
