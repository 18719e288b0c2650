"""The time the app reads: real by default, injected by tests (no sleeping)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A moment as stored in the database: ISO 8601 UTC, second precision."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def millis(clock: Clock) -> int:
    """Now in milliseconds since the epoch."""
    return int(clock().timestamp() * 1000)
