"""Attempt limits (login, tracking details): N failures per key, then a lock for M minutes,
and the limit of the source address the check comes from (sources.py), if it is counted.

A check counts against the limits from its start, so a parallel burst runs at most N checks
before the lock; when it ends it becomes a failure or is withdrawn, so a right secret is never
counted as a failure, whatever the concurrency.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from edge.kernel.auth import sources
from edge.kernel.clock import Clock, stamp
from edge.kernel.db import Database
from edge.kernel.i18n import gettext as _

EXPIRES = timedelta(minutes=1)  # a check still running after this was lost with its process
WAIT_SECONDS = 30.0  # how long a request waits for a free check before it is told "busy"
POLL_SECONDS = 0.05
RETRY_AFTER_SECONDS = 5  # what a "busy" answer tells the client


@dataclass(frozen=True)
class Turn:
    """What asking to check a secret got: a check to run, or the end of the key's lock, or
    neither (busy: N checks of the key are failed or still running)."""

    check: int | None = None
    locked_until: datetime | None = None


async def begin(
    db: aiosqlite.Connection, key: str, now: datetime, max_failures: int, source: str | None = None
) -> Turn:
    """Start a check of `key` unless it is locked or its failures and running checks reach N,
    or the source address (when counted) must wait or has as many checks running as it may."""
    at = stamp(now)
    await db.execute("DELETE FROM login_checks WHERE started_at <= ?", (stamp(now - EXPIRES),))
    await db.execute(  # a lock that has ended starts a fresh count
        "DELETE FROM login_failures WHERE phone = ? AND locked_until <= ?", (key, at)
    )
    async with db.execute(
        """
        SELECT (SELECT locked_until FROM login_failures WHERE phone = :key) AS locked_until,
            coalesce((SELECT failures FROM login_failures WHERE phone = :key), 0)
            + (SELECT count(*) FROM login_checks WHERE key = :key) AS counted
        """,
        {"key": key},
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # a SELECT without FROM always gives its one row
    if row["locked_until"] is not None:
        return Turn(locked_until=datetime.fromisoformat(row["locked_until"]))
    if row["counted"] >= max_failures:
        return Turn()
    if source is not None:
        free, until = await sources.turn(db, source, now)
        if not free:
            return Turn(locked_until=until)
    async with db.execute(
        "INSERT INTO login_checks (key, started_at, source) VALUES (?, ?, ?) RETURNING id",
        (key, at, source),
    ) as cursor:
        started = await cursor.fetchone()
    assert started is not None
    return Turn(check=started["id"])


class _Line:
    """This process's requests waiting for a check of one key, first come first served: only
    the first in line asks the database, so a newcomer never overtakes an earlier request."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.people = 0


_LINES: dict[str, _Line] = {}


@asynccontextmanager
async def _first_in_line(key: str, seconds: float) -> AsyncIterator[bool]:
    """Wait up to `seconds` to be first in `key`'s line; yields whether that happened in time."""
    line = _LINES.setdefault(key, _Line())
    line.people += 1
    first = False
    try:
        try:
            async with asyncio.timeout(seconds):
                first = await line.lock.acquire()
        except TimeoutError:
            pass
        yield first
    finally:
        if first:
            line.lock.release()
        line.people -= 1
        if not line.people:
            del _LINES[key]


async def wait_turn(
    database: Database, key: str, clock: Clock, max_failures: int, source: str | None = None
) -> Turn:
    """`begin` in its own write transaction until a check is free or the key (or source) is
    locked, first come first served; busy after WAIT_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    async with _first_in_line(key, WAIT_SECONDS) as first:
        while first:
            async with database.write() as db:
                turn = await begin(db, key, clock(), max_failures, source)
            if turn.check is not None or turn.locked_until is not None:
                return turn
            if loop.time() >= deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
    return Turn()


async def failed(
    db: aiosqlite.Connection,
    check: int,
    key: str,
    now: datetime,
    max_failures: int,
    minutes: int,
) -> datetime | None:
    """End a check whose secret was wrong: a failure; the Nth locks. When the lock ends, if any."""
    await db.execute("DELETE FROM login_checks WHERE id = ?", (check,))
    async with db.execute(
        """
        INSERT INTO login_failures (phone, failures, locked_until) VALUES (?, 1, NULL)
        ON CONFLICT (phone) DO UPDATE SET failures = failures + 1
        RETURNING failures, locked_until
        """,
        (key,),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    if row["locked_until"] is not None:
        return datetime.fromisoformat(row["locked_until"])
    if row["failures"] < max_failures:
        return None
    until = now + timedelta(minutes=minutes)
    await db.execute(
        "UPDATE login_failures SET locked_until = ? WHERE phone = ?", (stamp(until), key)
    )
    return until


async def succeeded(db: aiosqlite.Connection, check: int, key: str) -> None:
    """End a check whose secret was right: withdraw it and forget the key's failures."""
    await db.execute("DELETE FROM login_checks WHERE id = ?", (check,))
    await db.execute("DELETE FROM login_failures WHERE phone = ?", (key,))


def busy_message() -> str:
    """What a busy answer says (with Retry-After: RETRY_AFTER_SECONDS)."""
    return _("同时提交的尝试太多，请稍后再试。")


def wait_seconds(until: datetime, now: datetime) -> int:
    """Whole seconds from `now` until `until`, at least one (a Retry-After)."""
    return max(1, math.ceil((until - now).total_seconds()))


def wait_message(until: datetime, now: datetime) -> str:
    """How long to wait before trying again, in seconds under a minute, else in minutes."""
    seconds = wait_seconds(until, now)
    if seconds < 60:
        return _("尝试次数过多，请在 %(seconds)s 秒后再试。") % {"seconds": seconds}
    return _("尝试次数过多，请在 %(minutes)s 分钟后再试。") % {"minutes": math.ceil(seconds / 60)}
