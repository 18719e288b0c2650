"""SMS that residents send to the node: each message id is taken once, offered to the features'
handlers in order (`inbound_handlers.INBOUND_HANDLERS`) inside one write transaction, and the
claiming handler's reply is queued to the sender; unclaimed messages get a short help reply.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aiosqlite

from edge.kernel.auth.forms import is_mobile
from edge.kernel.clock import stamp
from edge.kernel.db import Database
from edge.kernel.i18n import gettext as _
from edge.kernel.i18n import in_locale
from edge.settings import Settings
from edge.sms.gateways import sign
from edge.sms.outbox import enqueue

MAX_TEXT = 500
MAX_ID = 64
REPLY_LOCALE = "zh_Hans"
# an auto-responder answering our replies must not start a loop: replies per phone per day
REPLIES_PER_DAY = 5


class InboundError(ValueError):
    """A delivery that cannot be taken: the message says why, with no personal data."""


@dataclass(frozen=True)
class InboundSms:
    """One SMS a resident sent to the node's number."""

    id: str  # the gateway's message id: a repeated delivery is processed once
    phone: str  # the sender's 11-digit mobile number
    text: str  # the body, stripped of surrounding whitespace
    received_at: str  # stamp() of when the node got it


class InboundHandler(Protocol):
    """A feature's claim on an inbound SMS: None if not its own (then it touched nothing),
    else the reply text (one SMS, ≤ 70 characters) to queue to the sender. `settings` gives
    the node's time zone and the keys that sign its audit rows."""

    async def __call__(
        self, db: aiosqlite.Connection, sms: InboundSms, settings: Settings
    ) -> str | None: ...


@dataclass(frozen=True)
class Received:
    """What became of a delivery: who claimed it and whether it was a repeat."""

    claimed_by: str
    repeated: bool


def message(message_id: str, phone: str, text: str, now: datetime) -> InboundSms:
    """A checked InboundSms, or InboundError saying what is wrong."""
    message_id = message_id.strip()
    phone = phone.strip().replace(" ", "").removeprefix("+86")
    text = text.strip()
    if not (0 < len(message_id) <= MAX_ID and message_id.isascii() and message_id.isprintable()):
        raise InboundError("id must be 1-64 printable ASCII characters")
    if not is_mobile(phone):
        raise InboundError("phone must be an 11-digit mobile number")
    if not text:
        raise InboundError("text is empty")
    if len(text) > MAX_TEXT:
        raise InboundError(f"text is longer than {MAX_TEXT} characters")
    return InboundSms(id=message_id, phone=phone, text=text, received_at=stamp(now))


def from_webhook(body: bytes, sent_signature: str, secret: str, now: datetime) -> InboundSms:
    """The SMS a provider posted as signed JSON {"id", "phone", "text"}."""
    if not hmac.compare_digest(sent_signature.encode(), sign(secret, body).encode()):
        raise PermissionError("bad signature")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InboundError("body is not JSON") from None
    if not isinstance(data, dict):
        raise InboundError("body must be a JSON object")
    fields = [data.get(name) for name in ("id", "phone", "text")]
    if not all(isinstance(value, str) for value in fields):
        raise InboundError("id, phone and text must be strings")
    message_id, phone, text = (str(value) for value in fields)
    return message(message_id, phone, text, now)


def _help_text() -> str:
    with in_locale(REPLY_LOCALE):
        return _("【村办】短信已收到，但未能识别。办事请找村代办员，或访问本镇村办网站。")


async def _replies_today(db: aiosqlite.Connection, phone: str, now: datetime) -> int:
    since = stamp(now - timedelta(days=1))
    async with db.execute(
        "SELECT count(*) FROM sms_inbound WHERE phone = ? AND received_at > ? "
        "AND reply_sms_id IS NOT NULL",
        (phone, since),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _claim(
    db: aiosqlite.Connection,
    sms: InboundSms,
    handlers: Sequence[InboundHandler],
    settings: Settings,
) -> tuple[str, str]:
    """(who claimed it, the reply) from the first handler that takes the message."""
    for handler in handlers:
        reply = await handler(db, sms, settings)
        if reply is not None:
            return handler.__module__, reply
    return "", _help_text()


async def receive(
    database: Database,
    sms: InboundSms,
    handlers: Sequence[InboundHandler],
    now: datetime,
    settings: Settings,
) -> Received:
    """Take `sms` once: record it, let the first handler that claims it act, queue its reply;
    all in one transaction, so a crash leaves either nothing or everything."""
    async with database.write() as db:
        async with db.execute(
            "SELECT claimed_by FROM sms_inbound WHERE id = ?", (sms.id,)
        ) as cursor:
            seen = await cursor.fetchone()
        if seen is not None:
            return Received(claimed_by=seen[0], repeated=True)
        replies = await _replies_today(db, sms.phone, now)
        await db.execute(
            "INSERT INTO sms_inbound (id, phone, text, received_at) VALUES (?, ?, ?, ?)",
            (sms.id, sms.phone, sms.text, sms.received_at),
        )
        claimed_by, reply = await _claim(db, sms, handlers, settings)
        reply_id = None
        if replies < REPLIES_PER_DAY:
            reply_id = await enqueue(
                db,
                phone=sms.phone,
                template="reply",
                params={"text": reply},
                locale=REPLY_LOCALE,
                now=now,
                dedupe_key=f"inbound:{sms.id}",
            )
        await db.execute(
            "UPDATE sms_inbound SET claimed_by = ?, reply_sms_id = ? WHERE id = ?",
            (claimed_by, reply_id, sms.id),
        )
    return Received(claimed_by=claimed_by, repeated=False)
