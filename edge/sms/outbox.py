"""The SMS outbox: a kind of the kernel outbox. `enqueue` renders a message into a row of the web
app's transaction; `drain` (the worker's, blocking sqlite3) sends due rows through a gateway.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta

import aiosqlite
from ulid import ULID

from edge.kernel import outbox as kernel_outbox
from edge.kernel.clock import stamp
from edge.kernel.outbox import NotSent, OutboxKind, Send
from edge.sms.gateways import Gateway, GatewayError
from edge.sms.templates import render

# 2, 4, 8 ... minutes between tries, at most an hour; max_attempts is settings.sms_max_attempts
SMS = OutboxKind(
    name="sms",
    table="sms_outbox",
    first_wait=timedelta(minutes=2),
    max_wait=timedelta(minutes=60),
    max_attempts=6,
)


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
    row = {
        "id": str(ULID()),
        "phone": phone,
        "template": template,
        "body": render(template, params, locale),
        "application_id": application_id,
        "dedupe_key": dedupe_key,
        "created_at": stamp(now),
    }
    return await kernel_outbox.enqueue(db, SMS, row, due=stamp(now))


def drain(
    conn: sqlite3.Connection, gateway: Gateway, now: datetime, max_attempts: int, limit: int = 50
) -> int:
    """Claim due messages, send each through `gateway`, record the outcome; the number sent."""
    kind = replace(SMS, max_attempts=max_attempts)
    return kernel_outbox.drain(conn, kind, now, _sender(gateway), limit).sent


def _sender(gateway: Gateway) -> Send:
    def send(row: sqlite3.Row) -> None:
        try:
            gateway.send(row["phone"], row["body"], row["id"])
        except GatewayError as exc:
            raise NotSent(str(exc)) from exc
        except Exception as exc:  # a broken gateway: count it, retry later
            raise NotSent(repr(exc)) from exc

    return send
