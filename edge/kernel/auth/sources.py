"""The limit per source address, across every account and tracking code: ten failed checks free,
then each further try waits twice as long (1 s, 2 s ... at most 15 minutes)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

import aiosqlite
from starlette.requests import HTTPConnection

from edge.kernel import transport
from edge.kernel.clock import stamp

FREE = 10  # failures an address may make (typos in a township office behind one NAT address)
MAX_DELAY_SECONDS = 900  # one try per 15 minutes at worst: about 4 guesses an hour
FORGET = timedelta(hours=1)  # an address's count is forgotten an hour after its last failure


def address(connection: HTTPConnection, header: str) -> str:
    """The client's address: the peer (a trusted proxy's X-Forwarded-For already taken by
    edge.kernel.transport), or the last entry of `header` (CUNBAN_CLIENT_ADDRESS_HEADER) when
    the peer is a trusted proxy, never from any other peer. IPv6 counts by /64: one household,
    one source."""
    if header and transport.via_proxy(connection.scope):
        raw = connection.headers.get(header, "").split(",")[-1].strip()
    else:
        raw = connection.client.host if connection.client else ""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def delay(failures: int) -> timedelta:
    """The wait after an address's `failures`-th failure: none up to FREE - 1, then doubling."""
    if failures < FREE:
        return timedelta(0)
    return timedelta(seconds=min(2 ** (failures - FREE), MAX_DELAY_SECONDS))


async def turn(
    db: aiosqlite.Connection, source: str, now: datetime
) -> tuple[bool, datetime | None]:
    """May `source` start a check now: (True, None); (False, when its wait ends) while it must
    wait; (False, None) while its checks in flight fill what it has left."""
    await db.execute(  # every address forgotten by now, so the table stays small
        "DELETE FROM login_sources WHERE last_failed_at <= ?", (stamp(now - FORGET),)
    )
    async with db.execute(
        """
        SELECT (SELECT failures FROM login_sources WHERE source = :source) AS failures,
            (SELECT last_failed_at FROM login_sources WHERE source = :source) AS last_failed_at,
            (SELECT count(*) FROM login_checks WHERE source = :source) AS running
        """,
        {"source": source},
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # a SELECT without FROM always gives its one row
    failures, running = row["failures"] or 0, row["running"]
    if failures < FREE:
        return failures + running < FREE, None
    until = datetime.fromisoformat(row["last_failed_at"]) + delay(failures)
    if now < until:
        return False, until
    return running == 0, None  # throttled: one check at a time


async def failed(db: aiosqlite.Connection, source: str, now: datetime) -> datetime | None:
    """Count a failed check from `source`; when its next try may start, if it must wait."""
    async with db.execute(
        """
        INSERT INTO login_sources (source, failures, last_failed_at) VALUES (?, 1, ?)
        ON CONFLICT (source) DO UPDATE SET failures = failures + 1,
            last_failed_at = excluded.last_failed_at
        RETURNING failures
        """,
        (source, stamp(now)),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    wait = delay(row["failures"])
    return now + wait if wait else None
