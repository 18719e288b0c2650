"""Drain the push outbox (blocking sqlite3, in the worker): encrypt, sign, POST, record.

A 404 or 410 means the browser dropped the subscription: it is deleted and the row is 'gone'.
Other failures back off like SMS. Logs name the row and the HTTP status, never a person.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path

from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from edge.kernel import outbox
from edge.kernel.db import connect_sync
from edge.kernel.outbox import NotSent, Send
from edge.push.keys import load_key
from edge.push.outbox import PUSH
from edge.settings import Settings

TTL_SECONDS = 86400 * 2
TIMEOUT_SECONDS = 10
GONE = (404, 410)

# an account's notices go only to its own subscriptions
DEVICE = "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = ? AND account_id = ?"


def send(device: sqlite3.Row, payload: str, vapid: Vapid, contact: str) -> None:
    """Encrypt the payload for the device and POST it, signed with the node's VAPID key."""
    webpush(
        {
            "endpoint": device["endpoint"],
            "keys": {"p256dh": device["p256dh"], "auth": device["auth"]},
        },
        data=payload,
        vapid_private_key=vapid,
        vapid_claims={"sub": f"mailto:{contact}"},
        timeout=TIMEOUT_SECONDS,
        ttl=TTL_SECONDS,
    )


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _forget(subscription_id: str) -> Callable[[sqlite3.Connection], object]:
    """Delete the subscription (in the transaction that marks its row 'gone')."""
    return lambda conn: conn.execute(
        "DELETE FROM push_subscriptions WHERE id = ?", (subscription_id,)
    )


def _sender(conn: sqlite3.Connection, vapid: Vapid, contact: str) -> Send:
    def send_row(row: sqlite3.Row) -> None:
        device = conn.execute(DEVICE, (row["subscription_id"], row["account_id"])).fetchone()
        if device is None:
            raise NotSent("unsubscribed", final="gone")
        try:
            send(device, row["payload"], vapid, contact)
        except Exception as exc:  # WebPushException, a timeout, a refused connection: record it
            status = _status(exc) if isinstance(exc, WebPushException) else None
            error = f"HTTP {status}" if status else type(exc).__name__
            if status in GONE:
                raise NotSent(error, final="gone", also=_forget(row["subscription_id"])) from exc
            raise NotSent(error) from exc

    return send_row


def drain(
    conn: sqlite3.Connection, keys_dir: Path, contact: str, now: datetime, limit: int = 50
) -> int:
    """Claim due pushes, send each, record the outcome; the number sent."""
    vapid = load_key(conn, keys_dir)
    if vapid is None:
        return 0  # no key yet, so no device can have subscribed
    return outbox.drain(conn, PUSH, now, _sender(conn, vapid, contact), limit).sent


def push_tick(settings: Settings, now: datetime) -> int:
    """One pass of the worker: re-queue stuck rows, then drain; the number sent."""
    with closing(connect_sync(settings.database_path)) as conn:
        outbox.reap(conn, PUSH, now)
        return drain(conn, settings.keys_dir, settings.push_contact, now)
