"""The SMS outbox: a kind of the kernel outbox. `enqueue` renders a message into a row of the web
app's transaction; `drain` (the worker's, blocking sqlite3) sends due rows through a gateway;
`reap` asks the gateway about a send a dead worker cut off before sending it again.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite
from ulid import ULID

from edge.kernel import outbox as kernel_outbox
from edge.kernel.clock import stamp
from edge.kernel.masking import mask_phone
from edge.kernel.outbox import Columns, NotSent, OutboxKind, Send
from edge.sms.gateways import Gateway, GatewayError
from edge.sms.templates import render

log = logging.getLogger(__name__)

# 2, 4, 8 ... minutes between tries, at most an hour; max_attempts is settings.sms_max_attempts
SMS = OutboxKind(
    name="sms",
    table="sms_outbox",
    first_wait=timedelta(minutes=2),
    max_wait=timedelta(minutes=60),
    max_attempts=6,
    columns=Columns(claimed_by="claimed_by", started_at="started_at", unconfirmed="unconfirmed"),
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
    conn: sqlite3.Connection,
    gateway: Gateway,
    now: datetime,
    max_attempts: int,
    limit: int = 50,
    claimer: str | None = None,
) -> int:
    """Claim due messages (for `claimer`), send each through `gateway`, record the outcome; the
    number sent."""
    kind = replace(SMS, max_attempts=max_attempts)
    return kernel_outbox.drain(conn, kind, now, _sender(gateway), limit, claimer).sent


def reap(
    conn: sqlite3.Connection, gateway: Gateway, now: datetime, claimers_dir: Path | None = None
) -> int:
    """Settle messages a stopped worker left in 'sending' (at once if its process is dead): the
    ones `gateway` says it took are marked sent, the others queued again; how many."""
    return kernel_outbox.reap(conn, SMS, now, lambda row: gateway.accepted(row["id"]), claimers_dir)


def _sender(gateway: Gateway) -> Send:
    def send(row: sqlite3.Row) -> None:
        try:
            gateway.send(row["phone"], row["body"], row["id"])
        except GatewayError as exc:
            raise NotSent(str(exc)) from exc
        except Exception as exc:  # a broken gateway: count it, retry later
            raise NotSent(repr(exc)) from exc
        attempt = row["attempts"] + 1
        log.info("sms %s sent to %s (attempt %d)", row["id"], mask_phone(row["phone"]), attempt)

    return send
