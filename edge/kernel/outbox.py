"""The durable outbox: a side effect is a row written in the transaction of the change that causes
it; the worker claims due rows, sends each, marks it sent or backs it off, and re-queues rows a
dead worker left in 'sending'. Each kind (SMS, push, blob upload...) declares its table.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosqlite

from edge.kernel.clock import stamp
from edge.kernel.db import immediate
from edge.kernel.masking import mask_text

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=5)

Send = Callable[[sqlite3.Row], None]


@dataclass(frozen=True)
class Columns:
    """The names a table gives its delivery columns (these, unless it is older than the outbox)."""

    state: str = "state"  # queued -> sending -> sent | failed (or a kind's own final state)
    attempts: str = "attempts"
    next_attempt_at: str = "next_attempt_at"
    claimed_at: str = "claimed_at"
    last_error: str = "last_error"
    sent_at: str = "sent_at"


@dataclass(frozen=True)
class OutboxKind:
    """One kind of side effect: its table and key, the wait after a failure (`first_wait`,
    doubling up to `max_wait`) and the attempts after which it fails for good (None: never)."""

    name: str
    table: str
    first_wait: timedelta
    max_wait: timedelta
    max_attempts: int | None
    key: str = "id"
    columns: Columns = field(default_factory=Columns)
    error_limit: int = 500
    stuck_after: timedelta = STUCK_AFTER


class NotSent(Exception):
    """A send that did not happen: the row waits its backoff, or with `final` ends in that state
    (push's 'gone'); `also` changes other rows in the same transaction as the mark; `stop` ends
    the pass (the rows not tried yet go back to the queue, due as before)."""

    def __init__(
        self,
        error: str,
        *,
        final: str | None = None,
        also: Callable[[sqlite3.Connection], object] | None = None,
        stop: bool = False,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.final = final
        self.also = also
        self.stop = stop


@dataclass(frozen=True)
class Drained:
    """What one pass did: rows sent, rows that failed (to be tried again or given up)."""

    sent: int
    failed: int


async def enqueue(
    db: aiosqlite.Connection, kind: OutboxKind, row: Mapping[str, object], due: str
) -> str | None:
    """Write `row` queued and due at `due` in the caller's transaction; its key, or None when a
    unique column already holds it (it was queued before)."""
    values = {**row, kind.columns.state: "queued", kind.columns.next_attempt_at: due}
    async with db.execute(
        f"INSERT INTO {kind.table} ({', '.join(values)}) "
        f"VALUES ({', '.join(':' + name for name in values)}) "
        f"ON CONFLICT DO NOTHING RETURNING {kind.key}",
        values,
    ) as cursor:
        found = await cursor.fetchone()
    return found[0] if found else None


def claim(
    conn: sqlite3.Connection, kind: OutboxKind, now: datetime, limit: int
) -> list[sqlite3.Row]:
    """Move up to `limit` due 'queued' rows to 'sending' in one BEGIN IMMEDIATE; return them in
    queue order. Two workers never claim the same row."""
    c = kind.columns
    with immediate(conn):
        rows = conn.execute(
            f"""
            UPDATE {kind.table} SET {c.state} = 'sending', {c.claimed_at} = :now
            WHERE {kind.key} IN (
                SELECT {kind.key} FROM {kind.table}
                WHERE {c.state} = 'queued' AND {c.next_attempt_at} <= :now
                ORDER BY {c.next_attempt_at}, {kind.key} LIMIT :limit
            )
            RETURNING *
            """,
            {"now": stamp(now), "limit": limit},
        ).fetchall()
    return sorted(rows, key=lambda row: (row[c.next_attempt_at], row[kind.key]))


def backoff(kind: OutboxKind, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: `first_wait`, doubling, at most `max_wait`."""
    wait = kind.first_wait
    for _ in range(attempts - 1):
        if wait >= kind.max_wait:
            break
        wait *= 2
    return min(wait, kind.max_wait)


def mark_sent(conn: sqlite3.Connection, kind: OutboxKind, key: str, now: datetime) -> None:
    """Record that the row's side effect happened."""
    c = kind.columns
    conn.execute(
        f"""
        UPDATE {kind.table} SET {c.state} = 'sent', {c.sent_at} = ?,
            {c.attempts} = {c.attempts} + 1, {c.claimed_at} = NULL, {c.last_error} = ''
        WHERE {kind.key} = ?
        """,
        (stamp(now), key),
    )


def mark_failed(
    conn: sqlite3.Connection, kind: OutboxKind, key: str, now: datetime, error: str
) -> str:
    """Count a failed attempt: back to 'queued' after its backoff, or 'failed' at the limit; the
    new state. Run it in a transaction (it reads the attempts, then writes)."""
    c = kind.columns
    query = f"SELECT {c.attempts} FROM {kind.table} WHERE {kind.key} = ?"
    found = conn.execute(query, (key,)).fetchone()
    attempts = (found[0] if found else 0) + 1
    limit = kind.max_attempts
    state = "failed" if limit is not None and attempts >= limit else "queued"
    conn.execute(
        f"""
        UPDATE {kind.table} SET {c.attempts} = ?, {c.state} = ?, {c.next_attempt_at} = ?,
            {c.claimed_at} = NULL, {c.last_error} = ?
        WHERE {kind.key} = ?
        """,
        (attempts, state, stamp(now + backoff(kind, attempts)), _error(kind, error), key),
    )
    return state


def _mark_final(
    conn: sqlite3.Connection, kind: OutboxKind, key: str, state: str, error: str
) -> None:
    c = kind.columns
    conn.execute(
        f"""
        UPDATE {kind.table} SET {c.state} = ?, {c.attempts} = {c.attempts} + 1,
            {c.claimed_at} = NULL, {c.last_error} = ?
        WHERE {kind.key} = ?
        """,
        (state, _error(kind, error), key),
    )


def _error(kind: OutboxKind, error: str) -> str:
    return mask_text(error)[: kind.error_limit]


def reap(conn: sqlite3.Connection, kind: OutboxKind, now: datetime) -> int:
    """Put rows left in 'sending' longer than `stuck_after` (a worker died mid-send) back in the
    queue, due now; how many."""
    c = kind.columns
    reaped = conn.execute(
        f"""
        UPDATE {kind.table} SET {c.state} = 'queued', {c.claimed_at} = NULL,
            {c.next_attempt_at} = ?
        WHERE {c.state} = 'sending' AND {c.claimed_at} <= ?
        """,
        (stamp(now), stamp(now - kind.stuck_after)),
    ).rowcount
    if reaped:
        log.warning("re-queued %d %s stuck in sending", reaped, kind.name)
    return reaped


def drain(
    conn: sqlite3.Connection, kind: OutboxKind, now: datetime, send: Send, limit: int = 50
) -> Drained:
    """Claim due rows, `send` each and record the outcome (`send` raises NotSent to fail one).

    A row whose send raised anything else stays 'sending' until reaped: it may have gone out.
    """
    waiting = claim(conn, kind, now, limit)
    sent = failed = 0
    try:
        while waiting:
            failure = _attempt(conn, kind, waiting.pop(0), now, send)
            if failure is None:
                sent += 1
                continue
            failed += 1
            if failure.stop:
                break
    finally:
        _release(conn, kind, waiting)
    return Drained(sent, failed)


def _attempt(
    conn: sqlite3.Connection, kind: OutboxKind, row: sqlite3.Row, now: datetime, send: Send
) -> NotSent | None:
    """Send one row and record the outcome; the failure, if it failed."""
    key = row[kind.key]
    try:
        send(row)
    except NotSent as failure:
        error = _error(kind, failure.error)
        log.warning("%s %s not sent: %s", kind.name, key, error)
        with immediate(conn):
            if failure.also is not None:
                failure.also(conn)
            if failure.final is None:
                mark_failed(conn, kind, key, now, error)
            else:
                _mark_final(conn, kind, key, failure.final, error)
        return failure
    mark_sent(conn, kind, key, now)
    return None


def _release(conn: sqlite3.Connection, kind: OutboxKind, rows: list[sqlite3.Row]) -> None:
    """Rows claimed but not tried: back to 'queued', due when they were."""
    c = kind.columns
    conn.executemany(
        f"UPDATE {kind.table} SET {c.state} = 'queued', {c.claimed_at} = NULL "
        f"WHERE {kind.key} = ? AND {c.state} = 'sending'",
        [(row[kind.key],) for row in rows],
    )
