"""The SMS outbox: rows written with the change that causes them, drained by the worker.

`enqueue` runs inside the web app's transaction; the rest are the worker's (blocking sqlite3).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import aiosqlite
from ulid import ULID

from edge.kernel.clock import stamp
from edge.kernel.masking import mask_text
from edge.sms.templates import render

MAX_BACKOFF = timedelta(minutes=60)
STUCK_AFTER = timedelta(minutes=5)
ERROR_LIMIT = 500


async def enqueue(
    db: aiosqlite.Connection,
    *,
    phone: str,
    template: str,
    params: dict[str, str],
    locale: str,
    now: datetime,
    application_id: str | None = None,
    dedupe_key: str | None = None,
) -> str | None:
    """Queue one SMS in the caller's transaction; None if `dedupe_key` was queued before."""
    message_id = str(ULID())
    async with db.execute(
        """
        INSERT INTO sms_outbox (id, phone, template, body, application_id, dedupe_key,
            next_attempt_at, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """,
        (
            message_id,
            phone,
            template,
            render(template, params, locale),
            application_id,
            dedupe_key,
            stamp(now),
            stamp(now),
        ),
    ) as cursor:
        row = await cursor.fetchone()
    return row["id"] if row else None


def claim_due(conn: sqlite3.Connection, now: datetime, limit: int) -> list[sqlite3.Row]:
    """Move up to `limit` due 'queued' rows to 'sending' in one BEGIN IMMEDIATE; return them."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        rows = conn.execute(
            """
            UPDATE sms_outbox SET state = 'sending', claimed_at = :now
            WHERE id IN (
                SELECT id FROM sms_outbox
                WHERE state = 'queued' AND next_attempt_at <= :now
                ORDER BY next_attempt_at, id LIMIT :limit
            )
            RETURNING id, phone, template, body, attempts
            """,
            {"now": stamp(now), "limit": limit},
        ).fetchall()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return sorted(rows, key=lambda row: row["id"])


def mark_sent(conn: sqlite3.Connection, message_id: str, now: datetime) -> None:
    """Record that the gateway accepted the message."""
    conn.execute(
        """
        UPDATE sms_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,
            claimed_at = NULL, last_error = ''
        WHERE id = ?
        """,
        (stamp(now), message_id),
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 2, 4, 8 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** min(attempts, 6)), MAX_BACKOFF)


def mark_failed(
    conn: sqlite3.Connection, message_id: str, now: datetime, error: str, max_attempts: int
) -> None:
    """Count a failed attempt: back to 'queued' after a backoff, or 'failed' at the limit."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT attempts FROM sms_outbox WHERE id = ?", (message_id,)).fetchone()
        attempts = (row["attempts"] if row else 0) + 1
        conn.execute(
            """
            UPDATE sms_outbox SET attempts = ?, state = ?, next_attempt_at = ?,
                claimed_at = NULL, last_error = ?
            WHERE id = ?
            """,
            (
                attempts,
                "failed" if attempts >= max_attempts else "queued",
                stamp(now + backoff(attempts)),
                mask_text(error)[:ERROR_LIMIT],
                message_id,
            ),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def reap_stuck(conn: sqlite3.Connection, now: datetime, older_than: timedelta = STUCK_AFTER) -> int:
    """Put rows left in 'sending' (a worker died mid-send) back in the queue; how many."""
    cursor = conn.execute(
        """
        UPDATE sms_outbox SET state = 'queued', claimed_at = NULL, next_attempt_at = ?
        WHERE state = 'sending' AND claimed_at <= ?
        """,
        (stamp(now), stamp(now - older_than)),
    )
    return cursor.rowcount
