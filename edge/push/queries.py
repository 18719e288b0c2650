"""Subscriptions (each tied to the account that made it) and the push outbox rows."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite
from ulid import ULID

from edge.kernel import outbox
from edge.kernel.clock import stamp
from edge.push.outbox import PUSH


async def subscribe(
    db: aiosqlite.Connection, account_id: str, endpoint: str, p256dh: str, auth: str, now: str
) -> bool:
    """Keep the device's subscription for this account; the account's own known endpoint gets
    the new keys. False (nothing changed) when another account holds the endpoint: it never
    moves to whoever posts it."""
    async with db.execute(
        """
        INSERT INTO push_subscriptions (id, account_id, endpoint, p256dh, auth, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth
        WHERE push_subscriptions.account_id = excluded.account_id
        RETURNING id
        """,
        (str(ULID()), account_id, endpoint, p256dh, auth, now),
    ) as cursor:
        return await cursor.fetchone() is not None


async def unsubscribe(db: aiosqlite.Connection, account_id: str, endpoint: str) -> None:
    """Forget the account's subscription at `endpoint` (no error if there is none)."""
    await db.execute(
        "DELETE FROM push_subscriptions WHERE account_id = ? AND endpoint = ?",
        (account_id, endpoint),
    )


async def enqueue(
    db: aiosqlite.Connection, account_id: str, payload: dict[str, str], now: datetime
) -> int:
    """Queue `payload` for each of the account's devices in the caller's transaction; how many."""
    async with db.execute(
        "SELECT id FROM push_subscriptions WHERE account_id = ? ORDER BY id", (account_id,)
    ) as cursor:
        subscriptions = [row["id"] for row in await cursor.fetchall()]
    body = json.dumps(payload, ensure_ascii=False)
    for subscription_id in subscriptions:
        row = {
            "id": str(ULID()),
            "subscription_id": subscription_id,
            "account_id": account_id,
            "payload": body,
            "created_at": stamp(now),
        }
        await outbox.enqueue(db, PUSH, row, due=stamp(now))
    return len(subscriptions)
