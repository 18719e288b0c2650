"""Who an attempt at a secret (a password, a tracking code's digits) is counted against: the
owner's usual device by itself, or anyone else by the key and by their source address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite
from starlette.requests import Request
from starlette.responses import Response

from edge.kernel.auth import devices, lockout, sources
from edge.kernel.node import Node, NodeSettings


@dataclass(frozen=True)
class Attempt:
    """`key` is what the secret opens (a phone, `track:<code>`); `counted` the lockout key the
    attempt counts on; `source` the address counted too (None for a known device); `device`
    the browser's device token (a new one when it had none)."""

    key: str
    counted: str
    source: str | None
    device: str


async def attempt(
    node: Node[NodeSettings], request: Request, key: str, *, per_source_key: bool
) -> Attempt:
    """A known device counts on its own key, exempt from the others' limits; anyone else on
    `key` (or, with `per_source_key`, on `key` from that address alone) and on their address."""
    token = devices.token_of(request)
    if token is not None:
        async with node.db.read() as db:
            if await devices.known(db, token, key):
                return Attempt(key, f"device:{devices.digest(token)}:{key}", None, token)
    source = sources.address(request, node.settings.web.client_address_header)
    counted = f"{key}@{source}" if per_source_key else key
    return Attempt(key, counted, source, token or devices.new_token())


async def wait_turn(node: Node[NodeSettings], attempt: Attempt) -> lockout.Turn:
    """A check for the attempt, or the end of the wait it must make, or busy (lockout)."""
    web = node.settings.web
    return await lockout.wait_turn(
        node.db, attempt.counted, node.clock, web.login_max_failures, attempt.source
    )


async def failed(
    node: Node[NodeSettings], db: aiosqlite.Connection, check: int, attempt: Attempt, now: datetime
) -> datetime | None:
    """End a check whose secret was wrong; when the next try of this kind may start, if later."""
    web = node.settings.web
    locked = await lockout.failed(
        db, check, attempt.counted, now, web.login_max_failures, web.login_lock_minutes
    )
    throttled = await sources.failed(db, attempt.source, now) if attempt.source else None
    waits = [until for until in (locked, throttled) if until is not None]
    return max(waits) if waits else None


async def succeeded(db: aiosqlite.Connection, check: int, attempt: Attempt, now: datetime) -> None:
    """End a check whose secret was right; the browser is now a known device for the key."""
    await lockout.succeeded(db, check, attempt.counted)
    await devices.remember(db, attempt.device, attempt.key, now)


def keep_device(response: Response, attempt: Attempt, *, secure: bool) -> Response:
    """Give the browser its device cookie (once more, so it lasts)."""
    devices.set_cookie(response, attempt.device, secure=secure)
    return response


def refusal(until: datetime | None, now: datetime) -> tuple[int, str]:
    """The status and message of an attempt refused without a check: 429 and how long to wait
    until `until`, or 503 busy (N checks running)."""
    if until:
        return 429, lockout.wait_message(until, now)
    return 503, lockout.busy_message()


def refused(response: Response, until: datetime | None, now: datetime) -> Response:
    """Tell the client when to come back: the wait's end, or the busy answer's."""
    seconds = lockout.wait_seconds(until, now) if until else lockout.RETRY_AFTER_SECONDS
    response.headers["Retry-After"] = str(seconds)
    return response
