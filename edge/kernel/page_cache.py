"""Anonymous public pages rendered once per content version and served from memory (issue 17):
the version is the database's `data_version` (any commit by any process) and the node clock's
minute; the key is the URL and every request header a page may be rendered from."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel.auth.sessions import SESSION_COOKIE, cookies_of
from edge.kernel.etag import matches, not_modified
from edge.kernel.header_limit import MAX_HEAD_BYTES
from edge.kernel.request_limits import head_bytes

# What a proxy, the browser and the service worker may do with such a page: keep it half a
# minute, then ask again (a 304 while it has not changed).
PUBLIC_PAGE = "public, max-age=30"
# The request headers a public page may be rendered from; each is part of the key, and named in
# Vary so a shared cache keys on them too (Accept-Encoding is added by the compression).
KEYED = (
    b"accept-encoding",
    b"accept-language",
    b"cookie",
    b"save-data",
    b"hx-request",
    b"hx-request-type",
    b"hx-boosted",
    b"hx-target",
    b"host",
)
VARY = ("Accept-Language", "Cookie", "HX-Request", "Save-Data")
MAX_ENTRIES = 512  # URLs x variants; the oldest goes first
MAX_BODY = 256 * 1024  # bytes: anything bigger is not a page worth keeping

Key = tuple[bytes, ...]


@dataclass(frozen=True)
class Entry:
    """One stored response: its version, start message, body and ETag."""

    version: tuple[int, datetime]
    start: Message
    body: bytes
    etag: str
    route: Any = None  # the route that made it, for the request metrics of a kept page


def covers(paths: tuple[str, ...], path: str) -> bool:
    """Whether `path` is one of the public pages: "/" exactly, others with what lies below."""
    return any(
        path == prefix or (prefix != "/" and path.startswith(prefix + "/")) for prefix in paths
    )


def key_of(scope: Scope) -> Key:
    """The URL and the values of the KEYED request headers (missing ones as empty)."""
    sent = dict(scope["headers"])
    return (
        scope["path"].encode("utf-8", "surrogateescape"),
        scope.get("scheme", "http").encode(),  # HSTS over HTTPS only (edge.kernel.transport)
        scope.get("query_string", b""),
        *(sent.get(name, b"") for name in KEYED),
    )


def storable(start: Message, body: bytes) -> bool:
    """A 200 HTML page for everyone: no cookie set, not private or no-store, not too big."""
    headers = Headers(raw=start["headers"])
    control = headers.get("cache-control", "").lower()
    return (
        start["status"] == 200
        and headers.get("content-type", "").startswith("text/html")
        and "set-cookie" not in headers
        and "etag" in headers
        and "private" not in control
        and "no-store" not in control
        and len(body) <= MAX_BODY
    )


def publish(start: Message) -> None:
    """Mark a stored page for shared caches: PUBLIC_PAGE and the full Vary."""
    headers = MutableHeaders(scope=start)
    headers["Cache-Control"] = PUBLIC_PAGE
    named = [part.strip() for part in headers.get("vary", "").split(",") if part.strip()]
    lower = {part.lower() for part in named}
    headers["Vary"] = ", ".join(named + [name for name in VARY if name.lower() not in lower])


class DataVersion:
    """SQLite's `data_version` on a connection of our own: it changes whenever another
    connection (this process's or another's) commits to the database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def __call__(self) -> int:
        if self._conn is None:
            self._conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints are Litestream's
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])


class PublicPageCache:
    """Outermost middleware: an anonymous GET of a public page is answered from memory while
    the content version holds (200 or 304), else rendered by the app and kept."""

    def __init__(self, app: ASGIApp, *, paths: tuple[str, ...]) -> None:
        self.app = app
        self.paths = paths
        self.entries: OrderedDict[Key, Entry] = OrderedDict()
        self._data_version: DataVersion | None = None

    def version(self, scope: Scope) -> tuple[int, datetime]:
        """The content version now: the database's change counter and the clock's minute."""
        node = scope["app"].state.node
        if self._data_version is None or self._data_version.path != node.db.path:
            self._data_version = DataVersion(node.db.path)
        minute = node.clock().replace(second=0, microsecond=0)
        return self._data_version(), minute

    def applies(self, scope: Scope) -> bool:
        """An anonymous GET (no session cookie) of a public page, within the head limit (past it
        the app's own 431 answers)."""
        return (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and covers(self.paths, scope["path"])
            and SESSION_COOKIE not in cookies_of(scope)
            and head_bytes(scope) <= MAX_HEAD_BYTES
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.paths or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        scope["public_page"] = True  # no visitor cookie: the page is the same for everyone
        key, version = key_of(scope), self.version(scope)
        entry = self.entries.get(key)
        if entry is None or entry.version != version:
            entry = await self.render(scope, receive, send, key, version)
            if entry is None:
                return  # sent as the app made it
        if entry.route is not None:
            scope["route"] = entry.route
        await self.answer(scope, send, entry)

    async def render(
        self, scope: Scope, receive: Receive, send: Send, key: Key, version: tuple[int, datetime]
    ) -> Entry | None:
        """Run the app for this page (without the browser's If-None-Match, so it answers in
        full) and keep the response if it is storable; else pass it on and return None."""
        headers = [(name, value) for name, value in scope["headers"] if name != b"if-none-match"]
        inner = {**scope, "headers": headers}
        messages: list[Message] = []

        async def collect(message: Message) -> None:
            messages.append(message)

        await self.app(inner, receive, collect)
        start, bodies = messages[0], messages[1:]
        body = b"".join(message.get("body", b"") for message in bodies)
        if start["type"] != "http.response.start" or not storable(start, body):
            for message in messages:
                await send(message)
            return None
        publish(start)
        entry = Entry(
            version, start, body, Headers(raw=start["headers"])["etag"], inner.get("route")
        )
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > MAX_ENTRIES:
            self.entries.popitem(last=False)
        return entry

    async def answer(self, scope: Scope, send: Send, entry: Entry) -> None:
        """Send the kept page, or 304 when the browser already holds it."""
        if matches(Headers(scope=scope).get("if-none-match", ""), entry.etag):
            await send(not_modified(entry.start))
            await send({"type": "http.response.body", "body": b""})
            return
        await send(entry.start)
        await send({"type": "http.response.body", "body": entry.body})
