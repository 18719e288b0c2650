"""Anonymous public pages rendered once per content version and served from memory (issue 17):
the version is the database's `data_version` (any commit by any process) and the node clock's
minute; the key is the URL and what a page is rendered from (language, encoding, village...)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.kernel import i18n
from edge.kernel.auth.sessions import CSRF_COOKIE, SESSION_COOKIE, cookies_of
from edge.kernel.data_version import memo_for
from edge.kernel.etag import encoding_of, matches, not_modified
from edge.kernel.header_limit import MAX_HEAD_BYTES
from edge.kernel.request_limits import head_bytes

# What a proxy, the browser and the service worker may do with such a page: keep it half a
# minute, then ask again (a 304 while it has not changed).
PUBLIC_PAGE = "public, max-age=30"
# The request headers a public page may be rendered from besides its language and encoding; each
# is part of the key, and named in Vary so a shared cache keys on them too (Accept-Encoding is
# added by the compression; Cookie and Accept-Language stand for the language and village).
KEYED = (
    b"save-data",
    b"hx-request",
    b"hx-request-type",
    b"hx-boosted",
    b"hx-target",
    b"host",
    b"x-forwarded-proto",
)
# The cookies a public page may be rendered from (the remembered village); the language cookie
# counts through the negotiated locale, the rest (visitor, device, analytics...) not at all.
KEYED_COOKIES = ("cb_village",)
VARY = ("Accept-Language", "Cookie", "HX-Request", "Save-Data")
MAX_ENTRIES = 512  # URLs x variants; the oldest goes first
MAX_BODY = 256 * 1024  # bytes: anything bigger is not a page worth keeping

Key = tuple[bytes, ...]


@dataclass(frozen=True)
class Entry:
    """One stored response: its version, start message, body and ETag, and the node's one
    visitor cookie (`Set-Cookie` value) for pages whose form needs it."""

    version: tuple[int, datetime]
    start: Message
    body: bytes
    etag: str
    route: Any = None  # the route that made it, for the request metrics of a kept page
    visitor_cookie: str | None = None


def covers(paths: tuple[str, ...], path: str) -> bool:
    """Whether `path` is one of the public pages: "/" exactly, others with what lies below."""
    return any(
        path == prefix or (prefix != "/" and path.startswith(prefix + "/")) for prefix in paths
    )


def key_of(scope: Scope) -> Key:
    """The URL, the encoding and language the page will be sent in, the KEYED cookies and the
    KEYED request headers (missing ones as empty); nothing else a visitor sends."""
    sent = dict(scope["headers"])
    query = scope.get("query_string", b"")
    cookies = cookies_of(scope)
    chosen = parse_qs(query.decode("latin-1")).get("lang", [None])[0]
    accept = sent.get(b"accept-language", b"").decode("latin-1")
    locale = i18n.negotiate(chosen, cookies.get(i18n.LOCALE_COOKIE), accept)
    return (
        scope["path"].encode("utf-8", "surrogateescape"),
        query,
        scope.get("scheme", "http").encode(),  # HSTS over HTTPS only (edge.kernel.transport)
        encoding_of(sent.get(b"accept-encoding", b"").decode("latin-1")).encode(),
        locale.encode(),
        *(cookies.get(name, "").encode("utf-8", "surrogateescape") for name in KEYED_COOKIES),
        *(sent.get(name, b"") for name in KEYED),
    )


def is_visitor_cookie(value: str) -> bool:
    """Whether a Set-Cookie value is the node's visitor cookie (the same for every visitor)."""
    return value.startswith(CSRF_COOKIE + "=")


def storable(start: Message, body: bytes) -> bool:
    """A 200 HTML page for everyone: no cookie set but the visitor cookie, not private or
    no-store, not too big."""
    headers = Headers(raw=start["headers"])
    control = headers.get("cache-control", "").lower()
    return (
        start["status"] == 200
        and headers.get("content-type", "").startswith("text/html")
        and all(is_visitor_cookie(value) for value in headers.getlist("set-cookie"))
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


class PublicPageCache:
    """Outermost middleware: an anonymous GET of a public page is answered from memory while
    the content version holds (200 or 304), else rendered by the app and kept. `paths` are kept
    with what lies below them, `exact` only as named; `forms` are exact pages whose form needs
    the node's one visitor cookie, which is sent with them to a browser that lacks it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        paths: tuple[str, ...],
        exact: tuple[str, ...] = (),
        forms: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.paths = paths
        self.exact = frozenset(exact) | frozenset(forms)
        self.forms = frozenset(forms)
        self.entries: OrderedDict[Key, Entry] = OrderedDict()

    def version(self, scope: Scope) -> tuple[int, datetime]:
        """The content version now: the database's change counter (its one `data_version`
        connection, edge.kernel.data_version.memo_for) and the clock's minute."""
        node = scope["app"].state.node
        minute = node.clock().replace(second=0, microsecond=0)
        return memo_for(node.db).data_version(), minute

    def applies(self, scope: Scope) -> bool:
        """An anonymous GET or HEAD (no session cookie) of a public page, within the head limit
        (past it the app's own 431 answers). HEAD gets the GET's headers from the same entry."""
        return (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and (scope["path"] in self.exact or covers(self.paths, scope["path"]))
            and SESSION_COOKIE not in cookies_of(scope)
            and head_bytes(scope) <= MAX_HEAD_BYTES
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.paths or self.exact) or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        key, version = key_of(scope), self.version(scope)
        entry = self.entries.get(key)
        if entry is None or entry.version != version:
            entry = await self.render(scope, receive, send, key, version)
            if entry is None:
                return  # sent as the app made it
        if entry.route is not None:
            scope["route"] = entry.route
        await self.answer(scope, send, entry)

    def inner_scope(self, scope: Scope) -> Scope:
        """The request the app renders a kept page for: without the browser's If-None-Match
        (so it answers in full) and, on a form page, without the visitor cookie (so the page
        comes with it, kept for browsers that lack it); other pages set no visitor cookie."""
        dropped = (
            (b"if-none-match", b"cookie") if scope["path"] in self.forms else (b"if-none-match",)
        )
        headers = [(name, value) for name, value in scope["headers"] if name not in dropped]
        scope = {**scope, "method": "GET"}  # a HEAD renders the page it describes
        if scope["path"] in self.forms:
            others = [
                f"{name}={value}"
                for name, value in cookies_of(scope).items()
                if name != CSRF_COOKIE
            ]
            if others:
                headers.append((b"cookie", "; ".join(others).encode("latin-1", "replace")))
            return {**scope, "headers": headers}
        scope["public_page"] = True  # no visitor cookie: the page is the same for everyone
        return {**scope, "headers": headers}

    async def render(
        self, scope: Scope, receive: Receive, send: Send, key: Key, version: tuple[int, datetime]
    ) -> Entry | None:
        """Run the app for this page and keep the response if it is storable (the visitor
        cookie taken out of it); else pass it on and return None."""
        inner = self.inner_scope(scope)
        messages: list[Message] = []

        async def collect(message: Message) -> None:
            messages.append(message)

        await self.app(inner, receive, collect)
        start, bodies = messages[0], messages[1:]
        body = b"".join(message.get("body", b"") for message in bodies)
        if start["type"] != "http.response.start" or not storable(start, body):
            for message in messages:
                if scope["method"] == "HEAD" and message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send(message)
            return None
        cookies = [value for name, value in start["headers"] if name.lower() == b"set-cookie"]
        start = {**start, "headers": [h for h in start["headers"] if h[0].lower() != b"set-cookie"]}
        publish(start)
        entry = Entry(
            version,
            start,
            body,
            Headers(raw=start["headers"])["etag"],
            inner.get("route"),
            cookies[0].decode("latin-1") if cookies else None,
        )
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > MAX_ENTRIES:
            self.entries.popitem(last=False)
        return entry

    def start_for(self, scope: Scope, entry: Entry) -> Message:
        """The kept start, plus the visitor cookie for a browser that did not send it."""
        if entry.visitor_cookie is None:
            return entry.start
        sent = cookies_of(scope).get(CSRF_COOKIE)
        if sent is not None and entry.visitor_cookie.startswith(f"{CSRF_COOKIE}={sent};"):
            return entry.start
        cookie = (b"set-cookie", entry.visitor_cookie.encode("latin-1"))
        return {**entry.start, "headers": [*entry.start["headers"], cookie]}

    async def answer(self, scope: Scope, send: Send, entry: Entry) -> None:
        """Send the kept page, or 304 when the browser already holds it."""
        start = self.start_for(scope, entry)
        if matches(Headers(scope=scope).get("if-none-match", ""), entry.etag):
            await send(not_modified(start))
            await send({"type": "http.response.body", "body": b""})
            return
        await send(start)
        body = b"" if scope["method"] == "HEAD" else entry.body
        await send({"type": "http.response.body", "body": body})
