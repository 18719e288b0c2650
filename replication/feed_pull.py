"""Pull central's command feed after this node's cursor and apply each page in one transaction."""

from __future__ import annotations

import asyncio
import gzip
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from edge.kernel.db import Database
from edge.settings import Settings
from edge.sync import commands
from replication import identity

log = logging.getLogger(__name__)

PAGE = 100
TIMEOUT_SECONDS = 10


class FeedUnavailable(RuntimeError):
    """Central could not be reached or refused the request."""


@dataclass(frozen=True)
class PullResult:
    """What one pull did: commands applied, refused, and whether more wait."""

    applied: int
    refused: int
    more: bool


def fetch(settings: Settings, key_id: str, after: int) -> tuple[bytes, bool]:
    """One signed GET of the feed page after `after`: (body, more pages wait)."""
    target = "/sync/commands?" + urlencode(
        {"node": settings.node_id, "after": after, "limit": PAGE}
    )
    request = urllib.request.Request(
        settings.central_url.rstrip("/") + target,
        headers={
            "Authorization": identity.authorization(
                settings.keys_dir, settings.node_id, key_id, "GET", target
            ),
            "Accept-Encoding": "gzip",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return body, response.headers.get("X-Cunban-More") == "1"
    except urllib.error.HTTPError as exc:
        raise FeedUnavailable(f"central answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise FeedUnavailable(f"central unreachable: {type(exc).__name__}") from exc


async def pull_once(db: Database, settings: Settings, key_id: str, now: datetime) -> PullResult:
    """Fetch the next page and apply it (one transaction per page); nothing applied twice."""
    async with db.read() as conn:
        after = await commands.cursor(conn)
    body, more = await asyncio.to_thread(fetch, settings, key_id, after)
    page = commands.parse(body)
    applied = refused = 0
    async with db.write() as conn:
        for command in page:
            result = await commands.apply(conn, settings, command, now)
            applied += result == "applied"
            refused += result == "refused"
    return PullResult(applied, refused, more)
