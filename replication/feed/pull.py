"""The edge's side of the feed: one signed GET of the page after its cursor, typed entries.

The edge applies what it fetched (edge/sync/): replication knows no handler and no table.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from replication import identity
from replication.feed.commands import Command, parse_command

PAGE = 100
TIMEOUT_SECONDS = 10


class FeedUnavailable(RuntimeError):
    """Central could not be reached or refused the request."""


@dataclass(frozen=True)
class FeedSource:
    """Where this node pulls from, and the key it signs its requests with."""

    central_url: str
    node_id: str
    keys_dir: Path
    key_id: str


@dataclass(frozen=True)
class FeedEntry:
    """One command as the feed carries it: its position, its id, its kind, its raw payload."""

    seq: int
    id: str
    kind: str
    payload: object

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> FeedEntry:
        """An entry of a page; ValueError if it lacks the fields every command has."""
        seq, command_id, kind = wire.get("seq"), wire.get("id"), wire.get("kind")
        if not (isinstance(seq, int) and isinstance(command_id, str) and len(command_id) == 26):
            raise ValueError("a command without seq or id")
        if not isinstance(kind, str):
            raise ValueError(f"command {command_id} has no kind")
        return cls(seq, command_id, kind, wire.get("payload"))

    def command(self) -> Command:
        """The typed command; MalformedCommand when the kind is unknown or the payload wrong."""
        return parse_command(self.kind, self.payload)


@dataclass(frozen=True)
class FeedPage:
    """The entries after the cursor, oldest first, and whether more pages wait."""

    entries: list[FeedEntry]
    more: bool


def parse(body: bytes) -> list[FeedEntry]:
    """The entries of a feed page (the JSON object /sync/commands answers)."""
    return [FeedEntry.from_wire(wire) for wire in json.loads(body)["commands"]]


def signed_get(source: FeedSource, target: str) -> tuple[bytes, Message]:
    """One GET of `target` (path and query) at central, signed by this node: (body, headers)."""
    request = urllib.request.Request(
        source.central_url.rstrip("/") + target,
        headers={
            "Authorization": identity.authorization(
                source.keys_dir, source.node_id, source.key_id, "GET", target
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
            return body, response.headers
    except urllib.error.HTTPError as exc:
        raise FeedUnavailable(f"central answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise FeedUnavailable(f"central unreachable: {type(exc).__name__}") from exc


def fetch(source: FeedSource, after: int) -> tuple[bytes, bool]:
    """One signed GET of the feed page after `after`: (body, more pages wait)."""
    target = "/sync/commands?" + urlencode({"node": source.node_id, "after": after, "limit": PAGE})
    body, headers = signed_get(source, target)
    return body, headers.get("X-Cunban-More") == "1"


def fetch_page(source: FeedSource, after: int) -> FeedPage:
    """The next page after `after` (blocking: run it in a thread)."""
    body, more = fetch(source, after)
    return FeedPage(parse(body), more)
