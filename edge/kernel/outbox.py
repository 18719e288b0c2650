"""The durable outbox: a side effect is a row written in the transaction of the change that causes
it; the worker claims due rows, counts and sends each, marks it sent or backs it off, and reaps
rows a dead worker left in 'sending'. Each kind (SMS, push, blob upload...) declares its table.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

from edge.kernel import claimers
from edge.kernel.clock import stamp
from edge.kernel.db import immediate
from edge.kernel.masking import mask_text

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=5)

Send = Callable[[sqlite3.Row], None]
# whether the far side already took this row (True), did not (False) or cannot tell (None)
Ask = Callable[[sqlite3.Row], bool | None]


@dataclass(frozen=True)
class Columns:
    """The names a table gives its delivery columns (these, unless it is older than the outbox)."""

    state: str = "state"  # queued -> sending -> sent | failed (or a kind's own final state)
    attempts: str = "attempts"
    next_attempt_at: str = "next_attempt_at"
    claimed_at: str = "claimed_at"
    last_error: str = "last_error"
    sent_at: str = "sent_at"
    # optional: the claiming process (reaped as soon as it dies), when the send started (a
    # claimed row not started was not tried), sends whose outcome nobody could confirm
    claimed_by: str | None = None
    started_at: str | None = None
    unconfirmed: str | None = None


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
    conn: sqlite3.Connection,
    kind: OutboxKind,
    now: datetime,
    limit: int,
    claimer: str | None = None,
) -> list[sqlite3.Row]:
    """Move up to `limit` due 'queued' rows to 'sending' in one BEGIN IMMEDIATE, for `claimer`
    (where the kind records it); return them in queue order. Two workers never claim the same
    row. Claiming is not an attempt: `start` counts one as its send begins."""
    c = kind.columns
    by = f", {c.claimed_by} = :claimer" if c.claimed_by else ""
    with immediate(conn):
        rows = conn.execute(
            f"""
            UPDATE {kind.table} SET {c.state} = 'sending', {c.claimed_at} = :now{by}
            WHERE {kind.key} IN (
                SELECT {kind.key} FROM {kind.table}
                WHERE {c.state} = 'queued' AND {c.next_attempt_at} <= :now
                ORDER BY {c.next_attempt_at}, {kind.key} LIMIT :limit
            )
            RETURNING *
            """,
            {"now": stamp(now), "limit": limit, "claimer": claimer},
        ).fetchall()
    return sorted(rows, key=lambda row: (row[c.next_attempt_at], row[kind.key]))


def start(conn: sqlite3.Connection, kind: OutboxKind, key: str, now: datetime) -> None:
    """Count an attempt as it begins, committed before the send: a send cut off by a kill
    still shows, and a row claimed but never started was not tried."""
    c = kind.columns
    started = f", {c.started_at} = :now" if c.started_at else ""
    conn.execute(
        f"UPDATE {kind.table} SET {c.attempts} = {c.attempts} + 1{started} WHERE {kind.key} = :key",
        {"now": stamp(now), "key": key},
    )


def backoff(kind: OutboxKind, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: `first_wait`, doubling, at most `max_wait`."""
    wait = kind.first_wait
    for _ in range(attempts - 1):
        if wait >= kind.max_wait:
            break
        wait *= 2
    return min(wait, kind.max_wait)


def _unclaimed(kind: OutboxKind) -> str:
    """The SQL assignments that end a claim."""
    c = kind.columns
    names = [c.claimed_at, c.claimed_by, c.started_at]
    return ", ".join(f"{name} = NULL" for name in names if name)


def mark_sent(conn: sqlite3.Connection, kind: OutboxKind, key: str, now: datetime) -> None:
    """Record that the row's side effect happened (its attempt was counted as it started)."""
    c = kind.columns
    conn.execute(
        f"""
        UPDATE {kind.table} SET {c.state} = 'sent', {c.sent_at} = ?, {_unclaimed(kind)},
            {c.last_error} = ''
        WHERE {kind.key} = ?
        """,
        (stamp(now), key),
    )


def mark_failed(
    conn: sqlite3.Connection, kind: OutboxKind, key: str, now: datetime, error: str
) -> str:
    """A started attempt failed: back to 'queued' after its backoff, or 'failed' at the limit;
    the new state. Run it in a transaction (it reads the attempts, then writes)."""
    c = kind.columns
    query = f"SELECT {c.attempts} FROM {kind.table} WHERE {kind.key} = ?"
    found = conn.execute(query, (key,)).fetchone()
    attempts = found[0] if found else 0
    limit = kind.max_attempts
    state = "failed" if limit is not None and attempts >= limit else "queued"
    conn.execute(
        f"""
        UPDATE {kind.table} SET {c.state} = ?, {c.next_attempt_at} = ?, {_unclaimed(kind)},
            {c.last_error} = ?
        WHERE {kind.key} = ?
        """,
        (state, stamp(now + backoff(kind, attempts)), _error(kind, error), key),
    )
    return state


def _mark_final(
    conn: sqlite3.Connection, kind: OutboxKind, key: str, state: str, error: str
) -> None:
    c = kind.columns
    conn.execute(
        f"""
        UPDATE {kind.table} SET {c.state} = ?, {_unclaimed(kind)}, {c.last_error} = ?
        WHERE {kind.key} = ?
        """,
        (state, _error(kind, error), key),
    )


def _error(kind: OutboxKind, error: str) -> str:
    return mask_text(error)[: kind.error_limit]


def reap(
    conn: sqlite3.Connection,
    kind: OutboxKind,
    now: datetime,
    ask: Ask | None = None,
    claimers_dir: Path | None = None,
) -> int:
    """Settle rows a worker left in 'sending': claimed more than `stuck_after` ago, or (where
    the kind records its claimer and `claimers_dir` is given) by a process now dead. A row whose
    send had started is asked after (`ask`): taken -> 'sent', not sent again; not taken, or
    nobody can tell (counted in `unconfirmed`) -> queued, due now. How many were settled."""
    stuck = [row for row in _sending(conn, kind) if _abandoned(kind, row, now, claimers_dir)]
    settled = sum(_settle(conn, kind, row, now, _answer(kind, row, ask)) for row in stuck)
    if settled:
        log.warning("settled %d %s a stopped worker left in sending", settled, kind.name)
    return settled


def _sending(conn: sqlite3.Connection, kind: OutboxKind) -> list[sqlite3.Row]:
    query = f"SELECT * FROM {kind.table} WHERE {kind.columns.state} = 'sending'"
    return conn.execute(query).fetchall()


def _abandoned(
    kind: OutboxKind, row: sqlite3.Row, now: datetime, claimers_dir: Path | None
) -> bool:
    c = kind.columns
    if row[c.claimed_at] is not None and row[c.claimed_at] <= stamp(now - kind.stuck_after):
        return True
    claimer = row[c.claimed_by] if c.claimed_by else None
    return bool(claimer and claimers_dir and not claimers.is_alive(claimers_dir, claimer))


def _answer(kind: OutboxKind, row: sqlite3.Row, ask: Ask | None) -> bool | None:
    """Whether the row's interrupted send reached the far side: a send never started did not."""
    if kind.columns.started_at and row[kind.columns.started_at] is None:
        return False
    if ask is None:
        return None
    try:
        return ask(row)
    except Exception as exc:  # an answer we cannot read is no answer
        log.warning("%s %s: cannot ask: %s", kind.name, row[kind.key], _error(kind, repr(exc)))
        return None


def _settle(
    conn: sqlite3.Connection, kind: OutboxKind, row: sqlite3.Row, now: datetime, taken: bool | None
) -> int:
    """Mark the row sent (`taken`) or queue it due now, if it is still in the same claim."""
    c = kind.columns
    if taken:
        change = f"{c.state} = 'sent', {c.sent_at} = :now, {c.last_error} = ''"
    else:
        change = f"{c.state} = 'queued', {c.next_attempt_at} = :now"
        if taken is None and c.unconfirmed:
            change += f", {c.unconfirmed} = {c.unconfirmed} + 1"
    with immediate(conn):
        return conn.execute(
            f"""
            UPDATE {kind.table} SET {change}, {_unclaimed(kind)}
            WHERE {kind.key} = :key AND {c.state} = 'sending' AND {c.claimed_at} IS :claimed_at
            """,
            {"now": stamp(now), "key": row[kind.key], "claimed_at": row[c.claimed_at]},
        ).rowcount


def drain(
    conn: sqlite3.Connection,
    kind: OutboxKind,
    now: datetime,
    send: Send,
    limit: int = 50,
    claimer: str | None = None,
) -> Drained:
    """Claim due rows (for `claimer`), `send` each and record the outcome (`send` raises
    NotSent to fail one).

    A row whose send raised anything else stays 'sending' until reaped: it may have gone out.
    """
    waiting = claim(conn, kind, now, limit, claimer)
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
    """Count, send one row and record the outcome; the failure, if it failed."""
    key = row[kind.key]
    start(conn, kind, key, now)
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
        f"UPDATE {kind.table} SET {c.state} = 'queued', {_unclaimed(kind)} "
        f"WHERE {kind.key} = ? AND {c.state} = 'sending'",
        [(row[kind.key],) for row in rows],
    )
