"""Drain the push outbox (blocking sqlite3, in the worker): encrypt, sign, POST, record.

A 404 or 410 means the browser dropped the subscription: it is deleted and the row is 'gone'.
Other failures back off like SMS. Logs name the row and the HTTP status, never a person.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from edge.kernel.clock import stamp
from edge.kernel.db import connect_sync
from edge.kernel.masking import mask_text
from edge.push.keys import load_key
from edge.settings import Settings
from edge.sms.outbox import STUCK_AFTER, backoff

log = logging.getLogger(__name__)

TTL_SECONDS = 86400 * 2
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 6
GONE = (404, 410)


def claim_due(conn: sqlite3.Connection, now: datetime, limit: int) -> list[sqlite3.Row]:
    """Move up to `limit` due 'queued' rows to 'sending'; return them with their subscription."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        ids = conn.execute(
            """
            UPDATE push_outbox SET state = 'sending', claimed_at = :now
            WHERE id IN (
                SELECT id FROM push_outbox WHERE state = 'queued' AND next_attempt_at <= :now
                ORDER BY next_attempt_at, id LIMIT :limit
            )
            RETURNING id
            """,
            {"now": stamp(now), "limit": limit},
        ).fetchall()
        rows = conn.execute(
            f"""
            SELECT o.id, o.subscription_id, o.payload, s.endpoint, s.p256dh, s.auth
            FROM push_outbox o LEFT JOIN push_subscriptions s ON s.id = o.subscription_id
            WHERE o.id IN ({",".join("?" * len(ids))}) ORDER BY o.id
            """,
            [row["id"] for row in ids],
        ).fetchall()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return rows


def mark_sent(conn: sqlite3.Connection, push_id: str, now: datetime) -> None:
    """The push service accepted the message."""
    conn.execute(
        "UPDATE push_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
        "claimed_at = NULL, last_error = '' WHERE id = ?",
        (stamp(now), push_id),
    )


def mark_gone(conn: sqlite3.Connection, push_id: str, subscription_id: str, error: str) -> None:
    """The subscription no longer exists: forget it and stop trying."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM push_subscriptions WHERE id = ?", (subscription_id,))
        conn.execute(
            "UPDATE push_outbox SET state = 'gone', attempts = attempts + 1, claimed_at = NULL, "
            "last_error = ? WHERE id = ?",
            (error, push_id),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def mark_failed(conn: sqlite3.Connection, push_id: str, now: datetime, error: str) -> None:
    """Count a failed attempt: back to 'queued' after a backoff, or 'failed' at the limit."""
    conn.execute(
        """
        UPDATE push_outbox SET attempts = attempts + 1,
            state = CASE WHEN attempts + 1 >= :limit THEN 'failed' ELSE 'queued' END,
            next_attempt_at = :next, claimed_at = NULL, last_error = :error
        WHERE id = :id
        """,
        {"limit": MAX_ATTEMPTS, "error": error, "id": push_id, "next": _next(conn, push_id, now)},
    )


def _next(conn: sqlite3.Connection, push_id: str, now: datetime) -> str:
    row = conn.execute("SELECT attempts FROM push_outbox WHERE id = ?", (push_id,)).fetchone()
    return stamp(now + backoff((row["attempts"] if row else 0) + 1))


def reap_stuck(conn: sqlite3.Connection, now: datetime, older_than: timedelta = STUCK_AFTER) -> int:
    """Put rows left in 'sending' (a worker died mid-send) back in the queue; how many."""
    cursor = conn.execute(
        "UPDATE push_outbox SET state = 'queued', claimed_at = NULL, next_attempt_at = ? "
        "WHERE state = 'sending' AND claimed_at <= ?",
        (stamp(now), stamp(now - older_than)),
    )
    return cursor.rowcount


def send(row: sqlite3.Row, vapid: Vapid, contact: str) -> None:
    """Encrypt the payload for the device and POST it, signed with the node's VAPID key."""
    webpush(
        {"endpoint": row["endpoint"], "keys": {"p256dh": row["p256dh"], "auth": row["auth"]}},
        data=row["payload"],
        vapid_private_key=vapid,
        vapid_claims={"sub": f"mailto:{contact}"},
        timeout=TIMEOUT_SECONDS,
        ttl=TTL_SECONDS,
    )


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _attempt(
    conn: sqlite3.Connection, row: sqlite3.Row, vapid: Vapid, contact: str, now: datetime
) -> bool:
    """Send one row and record the outcome; True if the push service accepted it."""
    if row["endpoint"] is None:
        mark_gone(conn, row["id"], row["subscription_id"], "unsubscribed")
        return False
    try:
        send(row, vapid, contact)
    except Exception as exc:  # WebPushException, a timeout, a refused connection: record it
        status = _status(exc) if isinstance(exc, WebPushException) else None
        error = f"HTTP {status}" if status else mask_text(type(exc).__name__)
        log.warning("push %s not sent: %s", row["id"], error)
        if status in GONE:
            mark_gone(conn, row["id"], row["subscription_id"], error)
        else:
            mark_failed(conn, row["id"], now, error)
        return False
    mark_sent(conn, row["id"], now)
    return True


def drain(
    conn: sqlite3.Connection, keys_dir: Path, contact: str, now: datetime, limit: int = 50
) -> int:
    """Claim due pushes, send each, record the outcome; the number sent."""
    vapid = load_key(conn, keys_dir)
    if vapid is None:
        return 0  # no key yet, so no device can have subscribed
    return sum(_attempt(conn, row, vapid, contact, now) for row in claim_due(conn, now, limit))


def push_tick(settings: Settings, now: datetime) -> int:
    """One pass of the worker: re-queue stuck rows, then drain; the number sent."""
    conn = connect_sync(settings.database_path)
    try:
        reaped = reap_stuck(conn, now)
        if reaped:
            log.warning("re-queued %d pushes stuck in sending", reaped)
        return drain(conn, settings.keys_dir, settings.push_contact, now)
    finally:
        conn.close()
